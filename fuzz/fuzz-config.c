/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: config.json parsing (rune_config_parse, with Go's
 * uint64 widening), the first thing rune does with a hostile bundle. A
 * config that parses must keep the invariants the engine relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "librune/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rune_config *cfg = NULL;
	err_t err = NULL;
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (rune_config_parse(text, "config.json", "/bundle", &cfg, &err) == 0) {
		if (cfg->root_path == NULL || cfg->root_path[0] != '/')
			abort();
		for (size_t i = 0; i < cfg->n_mounts; i++)
			if (cfg->mounts[i].destination == NULL ||
			    cfg->mounts[i].destination[0] != '/')
				abort();
		for (size_t i = 0; i < cfg->process.n_rlimits; i++)
			if (cfg->process.rlimits[i].name == NULL)
				abort();
		for (size_t i = 0; i < cfg->n_sysctls; i++)
			if (cfg->sysctls[i].ns >= RUNE_NS_COUNT)
				abort();
	} else if (err == NULL || err_msg(err)[0] == '\0') {
		abort(); /* every refusal says why */
	}
	err_free(&err);
	rune_config_free(cfg);
	free(text);
	return 0;
}
