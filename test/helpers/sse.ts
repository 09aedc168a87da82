/** Reads an SSE response into frames; stops at stream end, a predicate, or a timeout. */

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

export function parseFrames(text: string): SseFrame[] {
  const frames: SseFrame[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue;
    const frame: SseFrame = {};
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(":")) frame.comment = line.slice(1).trim();
      else {
        const i = line.indexOf(":");
        const key = line.slice(0, i);
        const value = line.slice(i + 1).replace(/^ /, "");
        if (key === "id" || key === "event" || key === "data") frame[key] = value;
      }
    }
    frames.push(frame);
  }
  return frames;
}

export async function readSse(
  res: Response,
  opts: { until?: (frames: SseFrame[]) => boolean; timeoutMs?: number } = {},
): Promise<{ frames: SseFrame[]; ended: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let ended = false;
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const chunk = await Promise.race([
      reader.read(),
      new Promise<"timeout">((r) => setTimeout(() => r("timeout"), remaining)),
    ]);
    if (chunk === "timeout") break;
    if (chunk.done) {
      ended = true;
      break;
    }
    text += decoder.decode(chunk.value, { stream: true });
    if (opts.until?.(parseFrames(text))) break;
  }
  if (!ended) await reader.cancel().catch(() => undefined);
  return { frames: parseFrames(text), ended };
}

export function eventFrames(frames: SseFrame[]) {
  return frames
    .filter((f) => f.event !== undefined && f.id !== undefined)
    .map((f) => ({ id: Number(f.id), event: f.event!, data: JSON.parse(f.data!) }));
}
