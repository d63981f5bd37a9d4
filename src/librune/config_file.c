/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rune's host configuration file (/etc/rune/config.json): the emulator's
 * settings, PAL directories, limits. Shared with rune-device-plugin (the
 * emulated EPC's size), hence a file of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/epc.h"
#include "librune/enclave_internal.h"
#include "rune/librune.h"

int rune_config_file_load(const char *path, json_t **out, err_t *err)
{
	_cleanup_close_ int fd = -1;
	json_error_t jerr;
	struct stat st;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return err_sys(err, errno, "%s", path);
	if (fstat(fd, &st) < 0)
		return err_sys(err, errno, "%s", path);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "%s: not a regular file", path);
	if (st.st_uid != 0 || (st.st_mode & 022))
		return err_set(err, EPERM, "%s must be owned by root and not writable by others",
			       path);
	*out = json_loadfd(fd, 0, &jerr);
	if (*out == NULL)
		return err_set(err, EINVAL, "%s: not valid JSON: %s (line %d)", path, jerr.text,
			       jerr.line);
	return 0;
}

/*
 * The usable EPC the emulator models: a number of bytes or a Kubernetes
 * quantity string; libsgx takes it from init-runelet's environment
 * (SGX_EMU_EPC_SIZE).
 */
int rune_config_epc_size(const char *path, uint64_t *out, err_t *err)
{
	json_t *j, *v;
	int ret;

	*out = 0;
	if ((ret = rune_config_file_load(path, &j, err)) < 0)
		return ret;
	v = json_object_get(json_object_get(j, "emulator"), "epc_size");
	if (v && json_is_integer(v) && json_integer_value(v) > 0)
		*out = json_integer_value(v);
	else if (v && (!json_is_string(v) || epc_parse_quantity(json_string_value(v), out) < 0 ||
		       *out == 0))
		ret = err_set(err, EINVAL,
			      "%s: emulator.epc_size: not a positive number of bytes or a "
			      "quantity (\"128Mi\")",
			      path);
	json_decref(j);
	return ret;
}

/*
 * Whether the emulator spends the time its EPC paging model charges
 * (SGX_EMU_EPC_PAGING_DELAY), so that benchmarks of oversubscribed
 * workloads see the slowdown; off by default.
 */
int rune_config_epc_paging_delay(const char *path, bool *out, err_t *err)
{
	json_t *j, *v;
	int ret;

	*out = false;
	if ((ret = rune_config_file_load(path, &j, err)) < 0)
		return ret;
	v = json_object_get(json_object_get(j, "emulator"), "epc_paging_delay");
	if (json_is_boolean(v))
		*out = json_is_true(v);
	else if (v)
		ret =
		    err_set(err, EINVAL, "%s: emulator.epc_paging_delay: not true or false", path);
	json_decref(j);
	return ret;
}

int rune_emulated_epc_size(const char *config_file, uint64_t *bytes, err_t *err)
{
	int ret = rune_config_epc_size(config_file ?: RUNE_CONFIG_FILE, bytes, err);

	if (ret == 0 && *bytes == 0)
		*bytes = epc_size();
	return ret;
}
