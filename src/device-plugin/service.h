/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DevicePlugin service's answers, as protobuf bytes, from the host's
 * inventory: no sockets here (server.c serves them), so each is
 * unit-tested on its own. Each returns a gRPC status: GRPC_OK with *out
 * (malloc'd) and *out_len, or an error with why filled in.
 */
#ifndef DEVPLUG_SERVICE_H
#define DEVPLUG_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "device-plugin/devplug.h"
#include "device-plugin/grpc.h"

#define DEVPLUG_WHY_MAX 160

struct devplug_answer {
	uint8_t *out;
	size_t out_len;
	char why[DEVPLUG_WHY_MAX];
};

enum grpc_status devplug_options(struct devplug_answer *a);
enum grpc_status devplug_list(const struct devplug_inventory *inv, struct devplug_answer *a);
enum grpc_status devplug_allocate(const struct devplug_opts *o, const struct devplug_inventory *inv,
				  const uint8_t *req, size_t len, struct devplug_answer *a);
enum grpc_status devplug_preferred(const struct devplug_inventory *inv, const uint8_t *req,
				   size_t len, struct devplug_answer *a);
enum grpc_status devplug_prestart(const struct devplug_inventory *inv, const uint8_t *req,
				  size_t len, struct devplug_answer *a);

#endif
