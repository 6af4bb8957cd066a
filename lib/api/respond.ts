import { NextResponse } from "next/server";
import type { z } from "zod";
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
