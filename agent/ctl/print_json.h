/* Print any protobuf-c message as JSON by walking its descriptor, so pidonectl can show the
 * reply of any RPC without code per message. Field names are the proto names; fields at
 * their proto3 default are left out (as protobuf's JSON mapping does); enums print by
 * name; bytes print as base64; map entries print as objects. */
#ifndef PD_CTL_PRINT_JSON_H
#define PD_CTL_PRINT_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <protobuf-c/protobuf-c.h>

/* The message as indented JSON, then a newline. */
void pd_print_json(FILE *out, const ProtobufCMessage *msg);
/* Standard base64 with padding, no newline. */
void pd_print_base64(FILE *out, const uint8_t *data, size_t len);

#endif
