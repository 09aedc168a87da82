/** `import text from "./file?raw"`: vitest (Vite) reads a file as a string (test/http/dashboard.test.ts). */
declare module "*?raw" {
  const text: string;
  export default text;
}
