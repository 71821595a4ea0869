import type { Server } from "node:http";
import type { Duplex } from "node:stream";
import { newRequestId } from "../../http/app.js";
import { problemBody } from "../../http/errors.js";

/** What Node's HTTP parser refused, in the words a client can act on. */
function detailOf(code: string | undefined): string {
  if (code === "HPE_HEADER_OVERFLOW")
    return "The request headers are larger than the server accepts (16 KiB)";
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return "The request did not arrive in time";
  return "The request is not valid HTTP/1.1";
}

/**
 * Answers requests Node's HTTP parser refuses before the app sees them (oversized headers, a bad
 * request line, a non-numeric Content-Length, Content-Length with Transfer-Encoding) with the same
 * problem+json body and x-request-id as every other error, instead of Node's bare 400/431.
 */
export function answerClientErrors(server: Server): void {
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const requestId = newRequestId();
    const body = JSON.stringify(problemBody("bad_request", detailOf(err.code), requestId));
    socket.end(
      "HTTP/1.1 400 Bad Request\r\n" +
        "content-type: application/problem+json\r\n" +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        `x-request-id: ${requestId}\r\n` +
        "connection: close\r\n\r\n" +
        body,
    );
  });
}
