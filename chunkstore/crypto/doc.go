// Package crypto seals repository objects and wraps the master key under
// passwords. Every blob and metadata object in a repository is a sealed
// object; key files are the exception, and they hold the master key sealed
// under a password. This package is therefore the whole of the repository's
// confidentiality and of its integrity against tampering.
//
// # Sealed objects
//
// A Key is 32 random bytes. Seal(key, plaintext) is
//
//	nonce    = 24 bytes from a CSPRNG
//	subkey   = BLAKE3-256(key = key, input = nonce[0:12])   (keyed mode, 32-byte output)
//	body     = AES-256-GCM-Seal(key = subkey, nonce = nonce[12:24],
//	                            plaintext, additional data = empty)
//	sealed   = nonce || body                                (body = ciphertext || 16-byte tag)
//
// so a sealed object is exactly Overhead (40) bytes longer than its
// plaintext. Open reverses it and returns ErrAuth, without any plaintext, if
// the tag does not verify.
//
// Why a per-object subkey: AES-GCM with random 96-bit nonces may seal only
// about 2^32 messages under one key before a nonce collision, which breaks
// both confidentiality and authenticity, becomes a real risk. A backup
// repository can hold billions of objects, so each object instead gets its
// own AES key derived from 96 random bits, and a (subkey, GCM nonce) pair
// repeats only when all 192 random bits do. BLAKE3 in keyed mode is a PRF,
// which is all the derivation needs, and cairn already depends on it for
// blob IDs. No state is kept between calls because every subkey differs.
//
// Sealed objects carry no type or name: what an object is comes from where it
// is stored, and object IDs (hashes of plaintext or ciphertext) bind names to
// content at the layers above.
//
// # Master key and key files
//
// The repository's MasterKey is created once at init and never changes. It
// is stored once per password in a key file, keys/<id>, as unencrypted JSON:
//
//	{
//	  "version": 1,
//	  "created": "2026-11-26T10:00:00Z",      RFC 3339, UTC, informational
//	  "hostname": "node-1",                   informational
//	  "username": "root",                     informational
//	  "kdf": {"algorithm": "argon2id", "time": 3, "memory_kib": 65536, "threads": 2},
//	  "salt": "<base64 of 16 random bytes>",
//	  "data": "<base64 of Seal(wrappingKey, masterKeyJSON)>"
//	}
//
// where wrappingKey = argon2id(password, salt, time, memory_kib, threads,
// 32 bytes) and masterKeyJSON = {"encrypt":"<base64 of the 32-byte key>"}.
// base64 is standard encoding with padding (RFC 4648 section 4). A wrong
// password fails the tag check of "data" and returns ErrWrongPassword.
//
// ParseKeyFile treats a key file as hostile: it accepts only version 1 and
// argon2id, a 16-byte salt, time 1..100, memory 8*threads KiB..4 GiB,
// threads 1..255 and sealed data of 40 bytes to 16 KiB, before any KDF runs.
// Unknown JSON fields are ignored so later versions can add informational
// fields; a change an old reader must understand bumps "version" instead.
// Unknown fields inside masterKeyJSON are ignored too: the repository's
// format version decides which secrets a reader must have.
//
// # Secrets never leak
//
// Key and MasterKey print as "[redacted]" with every fmt verb, resolve to
// "[redacted]" in slog, and refuse encoding/json, so a stray %v, log
// attribute or status field cannot expose them. Errors never contain
// passwords, key bytes or decrypted data.
package crypto
