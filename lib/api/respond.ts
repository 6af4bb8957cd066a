import { NextResponse } from "next/server";
import type { z } from "zod";
import { reportError } from "../observability/log";
import { storable } from "../schemas/common";
import { ApiError } from "./errors";

/** JSON with bigint-safe serialisation (drizzle may hand back bigint for counts). */
export function json(body: unknown, status = 200, headers?: Record<string, string>): NextResponse {
  return new NextResponse(
    JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? Number(v) : v)),
    { status, headers: { "content-type": "application/json", "cache-control": "no-store", ...headers } },
  );
}

export function errorResponse(error: ApiError): NextResponse {
  return json({ error: { code: error.code, message: error.message, details: error.details } }, error.status);
}

/** Parse a raw JSON body (empty means `{}`) through a zod schema; a bad body is a 400/422, never a write. */
export function parseJsonBody<S extends z.ZodType>(schema: S, raw: string): z.output<S> {
  let value: unknown = {};
  if (raw.trim() !== "") {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new ApiError("invalid_json", "request body is not valid JSON");
    }
  }
  return parseWith(schema, value, "body");
}

/** Query string parameters through a zod schema. */
export function parseQuery<S extends z.ZodType>(schema: S, url: URL): z.output<S> {
  return parseWith(schema, Object.fromEntries(url.searchParams.entries()), "query");
}

/** Through `schema`, after the shared check that every string in it is text Postgres can store. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = storable(schema).safeParse(value);
  if (!result.success) {
    throw new ApiError(
      "bad_request",
      `invalid ${where}: ${result.error.issues.map((i) => `${i.path.join(".") || where} ${i.message}`).join("; ")}`,
      result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  return result.data;
}

/**
 * A streamed download: each chunk of `chunks` is sent as it is made, and the next is asked for only
 * when the client has read the last (memory stays at one chunk). The first chunk is made before the
 * answer starts, so a failure there is still a JSON error with its status; one after that can only
 * cut the download short (reported to Sentry once). A client that goes away stops the generator.
 */
export async function streamedDownload(
  chunks: AsyncGenerator<string, unknown>,
  options: { contentType: string; fileName: string; where: string },
): Promise<Response> {
  const encoder = new TextEncoder();
  const first = await chunks.next();
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      if (first.done) controller.close();
      else controller.enqueue(encoder.encode(first.value));
    },
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (error) {
        reportError(error, { where: options.where, during: "streaming a download" });
        controller.error(error);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return new Response(stream, {
    status: 200,
    headers: {
      "content-type": options.contentType,
      "content-disposition": `attachment; filename="${options.fileName.replace(/[^A-Za-z0-9._-]/g, "_")}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}
