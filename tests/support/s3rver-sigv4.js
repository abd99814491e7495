// s3rver 3.7.1 checks the expiry of presigned SigV4 URLs but not their signatures (its
// authentication middleware says "Signature version 4 calculation is unimplemeneted").
// This launcher puts AWS's own SigV4 implementation (@smithy/signature-v4) in front of
// it, so a tampered URL answers 403 SignatureDoesNotMatch exactly as AWS S3 does.
//
// usage: node tests/support/s3rver-sigv4.js DIRECTORY PORT BUCKET
"use strict";
const S3rver = require("s3rver");
const { SignatureV4 } = require("@smithy/signature-v4");
const { Sha256 } = require("@aws-crypto/sha256-js");

const [directory, port, bucket] = process.argv.slice(2);
const SECRETS = { S3RVER: "S3RVER" };

function refuse(ctx, code, message) {
  ctx.status = 403;
  ctx.type = "application/xml";
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

function parseAmzDate(value) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value || "");
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}

async function verifyPresignedV4(ctx, next) {
  // A CORS preflight carries no credentials (as on AWS): s3rver answers it from the bucket's CORS rules.
  if (ctx.method === "OPTIONS") return next();
  const query = ctx.query;
  if (query["X-Amz-Algorithm"] !== "AWS4-HMAC-SHA256") return next();
  const [accessKeyId, , region, service] = String(query["X-Amz-Credential"] || "").split("/");
  const secretAccessKey = SECRETS[accessKeyId];
  const signingDate = parseAmzDate(query["X-Amz-Date"]);
  if (!secretAccessKey || !signingDate || query["X-Amz-SignedHeaders"] !== "host") {
    return refuse(ctx, "AccessDenied", "Malformed presigned URL.");
  }
  const unsigned = {};
  for (const [key, value] of Object.entries(query)) {
    if (!key.startsWith("X-Amz-")) unsigned[key] = value;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region,
    service,
    sha256: Sha256,
    uriEscapePath: false, // S3 signs the path exactly as sent, without double encoding
    applyChecksum: false,
  });
  const [hostname, hostPort] = ctx.host.split(":");
  const expected = await signer.presign(
    {
      method: ctx.method === "HEAD" ? "HEAD" : ctx.method,
      protocol: "http:",
      hostname,
      port: hostPort ? Number(hostPort) : undefined,
      path: ctx.originalUrl.split("?")[0],
      query: unsigned,
      // As @aws-sdk/s3-request-presigner does: S3 presigned URLs sign UNSIGNED-PAYLOAD.
      headers: { host: ctx.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
    },
    {
      signingDate,
      expiresIn: Number(query["X-Amz-Expires"]),
      unhoistableHeaders: new Set(["x-amz-content-sha256"]),
      unsignableHeaders: new Set(["x-amz-content-sha256"]),
    },
  );
  if (expected.query["X-Amz-Signature"] !== query["X-Amz-Signature"]) {
    return refuse(ctx, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.");
  }
  return next();
}

const CORS = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
  </CORSRule>
</CORSConfiguration>`;

const server = new S3rver({
  address: "127.0.0.1",
  port: Number(port),
  directory,
  silent: true,
  // Browsers PUT upload parts straight to the bucket (the publisher's console), so the bucket
  // allows cross-origin PUTs and exposes the ETag, as a real deployment's bucket must.
  configureBuckets: [{ name: bucket, configs: [CORS] }],
});
server.middleware.unshift(verifyPresignedV4);
server.run().then((address) => {
  process.stdout.write(`listening ${address.address}:${address.port}\n`);
});
