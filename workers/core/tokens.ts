/** Invite tokens: 32 random bytes, base64url. Only their SHA-256 hash is ever stored. */
export function generateToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

// SHA-256 (FIPS 180-4) in plain JS. Measured with bench --profile on the 50-address invite (50
// tokens hashed per request), share of the Worker's CPU samples: one awaited
// `crypto.subtle.digest` per token plus a map/padStart hex conversion 18.7 %; `node:crypto`
// createHash().digest("hex") 14.3 % (workerd implements it in JS over Buffer and a stream-backed
// Hash object); this 3.8 %. A 43-character token is one 64-byte block. Only the hash is stored
// and the token is random, so a JS implementation leaks nothing secret-dependent.
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const W = new Int32Array(64);
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const encoder = new TextEncoder();

/** The UTF-8 bytes of `value`, padded to whole 64-byte blocks with the bit length at the end. */
function padded(value: string): Uint8Array {
  let bytes: Uint8Array | null = null;
  let length = value.length;
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0x7f) {
      bytes = encoder.encode(value);
      length = bytes.length;
      break;
    }
  }
  const out = new Uint8Array(Math.ceil((length + 9) / 64) * 64);
  if (bytes === null) for (let i = 0; i < length; i++) out[i] = value.charCodeAt(i);
  else out.set(bytes);
  out[length] = 0x80;
  const bitsHigh = Math.floor(length / 0x20000000);
  const bitsLow = (length << 3) >>> 0;
  const end = out.length;
  out[end - 8] = bitsHigh >>> 24;
  out[end - 7] = bitsHigh >>> 16;
  out[end - 6] = bitsHigh >>> 8;
  out[end - 5] = bitsHigh;
  out[end - 4] = bitsLow >>> 24;
  out[end - 3] = bitsLow >>> 16;
  out[end - 2] = bitsLow >>> 8;
  out[end - 1] = bitsLow;
  return out;
}

/** SHA-256 of a string (its UTF-8 bytes), as 64 lower-case hex digits. */
export function sha256Hex(value: string): string {
  const m = padded(value);
  let h0 = 0x6a09e667;
  let h1 = 0xbb67ae85 | 0;
  let h2 = 0x3c6ef372;
  let h3 = 0xa54ff53a | 0;
  let h4 = 0x510e527f;
  let h5 = 0x9b05688c | 0;
  let h6 = 0x1f83d9ab;
  let h7 = 0x5be0cd19;
  for (let o = 0; o < m.length; o += 64) {
    for (let i = 0; i < 16; i++) {
      const p = o + i * 4;
      W[i] =
        ((m[p] as number) << 24) | ((m[p + 1] as number) << 16) | ((m[p + 2] as number) << 8) | (m[p + 3] as number);
    }
    for (let i = 16; i < 64; i++) {
      const w15 = W[i - 15] as number;
      const w2 = W[i - 2] as number;
      const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
      const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
      W[i] = ((W[i - 16] as number) + s0 + (W[i - 7] as number) + s1) | 0;
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    let f = h5;
    let g = h6;
    let h = h7;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + (K[i] as number) + (W[i] as number)) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }
  let hex = "";
  for (const word of [h0, h1, h2, h3, h4, h5, h6, h7]) {
    hex += `${HEX[word >>> 24]}${HEX[(word >>> 16) & 0xff]}${HEX[(word >>> 8) & 0xff]}${HEX[word & 0xff]}`;
  }
  return hex;
}

/** A raw token as issued: exactly 43 base64url characters (32 bytes, unpadded). */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
