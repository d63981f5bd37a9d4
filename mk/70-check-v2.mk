# make check-v2: rune itself on a pure cgroup v2 host, a small qemu VM (TCG)
# booting Debian's kernel with an initramfs of busybox-static, rune and
# busybox bundles (tests/v2vm/, docs/testing-v2.md).  `make check` runs the
# same test (tests/v2vm/test-v2vm.sh) whenever qemu is installed, and skips
# it, with the reason, otherwise.
#
# check-v2 is a prerequisite list here, not a recipe, so that it adds to the
# cgroup module's own check-v2 (mk/31-cgroup-tests.mk) instead of replacing it.
.PHONY: check-v2 check-v2-rune
check-v2: check-v2-rune

check-v2-rune: deps
	RUNE_EXTRA_DEPS=qemu-system-x86 scripts/install-deps.sh
	$(MAKE) all
	BUILD=$(abspath $(BUILD)) TESTS=tests/v2vm/ tests/run.sh
