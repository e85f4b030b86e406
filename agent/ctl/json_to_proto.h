/* JSON to any protobuf-c message, driven by the message's descriptor: pidonectl reads an
 * OCI bundle's config.json into a grpc.Spec with it, and `call --json` any request.
 *
 * Matching: a JSON key names the field whose proto name equals it, else the one equal to it
 * ignoring case and '_' — so OCI's "noNewPrivileges" fills NoNewPrivileges, "uid" UID,
 * "linux" Linux_ and protobuf's JSON "containerId" container_id. One alias beyond that:
 * "ociVersion" is Spec.Version (the Go struct's JSON tag). Unknown keys are skipped (and
 * reported through the callback); null is "not set"; a key given twice is an error.
 *
 * Values: strings; true/false; integers (no fraction or exponent), range-checked for the
 * field's type; floats; enums by name or number; bytes as base64; objects for messages;
 * arrays for repeated fields; objects for maps (protoc's repeated "…Entry" {key, value}).
 *
 * Allocation: the result is built exactly as protobuf_c_message_unpack() would build it —
 * every message, string, array and byte buffer malloc'd — so protobuf_c_message_free_unpacked
 * (msg, NULL) frees all of it, and code that edits the message afterwards frees what it
 * takes out and mallocs what it puts in. Nothing is returned on failure. */
#ifndef PD_CTL_JSON_TO_PROTO_H
#define PD_CTL_JSON_TO_PROTO_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

#include "agent/error.h"

/* Largest JSON text accepted (a spec must fit in one 4 MiB frame once encoded). */
#define PD_J2P_MAX_TEXT (16u << 20)
/* Most elements in one array or members in one object: the checked walk of json_read.h
 * costs O(n^2) in them (16384 take a quarter of a second). */
#define PD_J2P_MAX_ELEMS 16384

/* Told about every key that matches no field, by its path ("process.user.umask"). */
struct pd_j2p_unknown {
	void (*fn)(void *ctx, const char *path);
	void *ctx;
};

/* Decode text (len bytes, not NUL-terminated) into a new message of type desc. Errors are
 * INVALID_ARGUMENT naming the path: "process.user.uid: -1 is out of range for uint32".
 * unknown may be NULL. */
int pd_json_to_proto(const char *text, size_t len, const ProtobufCMessageDescriptor *desc,
		     const struct pd_j2p_unknown *unknown, ProtobufCMessage **out,
		     struct pd_error *err);

#endif
