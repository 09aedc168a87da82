// src/lib/crypto.ts (shared with the control plane) names workerd's non-standard
// `crypto.subtle.timingSafeEqual`; the runner never calls it, but type-checks the file.
export {};
declare module "crypto" {
  namespace webcrypto {
    interface SubtleCrypto {
      timingSafeEqual(a: ArrayBufferView | ArrayBuffer, b: ArrayBufferView | ArrayBuffer): boolean;
    }
  }
}
