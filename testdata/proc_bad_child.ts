// A broken process worker bootstrap for the protocol tests: says LIVE and
// READY, then sends what the URL's fragment names: "garbage" (bytes that are
// no frame) or "unknown" (a frame with a message of no known type).
import { Socket } from "node:net";
import { encodeFrame } from "../_proc_frame.ts";
import { LIVE, READY } from "../_proc_protocol.ts";

const socket = new Socket({ fd: 3, readable: true, writable: true });
socket.write(encodeFrame([[LIVE, Deno.pid], [READY]]));
socket.write(
  new URL(import.meta.url).hash === "#garbage"
    ? new TextEncoder().encode("garbage!")
    : encodeFrame([[99]]),
);
socket.on("end", () => Deno.exit(0));
