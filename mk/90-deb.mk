# make deb: Debian binary packages (debian/) in $(BUILD)/deb, built with
# dpkg-buildpackage in a copy of the tracked files under $(BUILD)/deb/src
# (dpkg-buildpackage writes into the parent directory). Version: VERSION,
# the number of commits and the commit; date and SOURCE_DATE_EPOCH: the last
# commit's, so the same tree gives the same .deb bytes. The copy may be
# outside git (BUILD=/elsewhere): the commit goes in the environment, and
# nothing of the outer make's (BUILD, PREFIX, MAKEFLAGS) reaches the inner build.
DEB_DIR := $(BUILD)/deb
DEB_SRC := $(DEB_DIR)/src/rune
DEB_VERSION := $(RUNE_VERSION)+git$(shell git rev-list --count HEAD 2>/dev/null || echo 0).g$(RUNE_COMMIT)
DEB_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
DEB_BUILD_OPTIONS ?= noddebs parallel=$(JOBS)

.PHONY: deb
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_SRC)
	git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C $(DEB_SRC)
	sed -i '1s/(.*)/($(DEB_VERSION))/; s/^\( -- .*>  \).*/\1$(shell date -u -R -d @$(DEB_EPOCH))/' \
		$(DEB_SRC)/debian/changelog
	cd $(DEB_SRC) && env -u BUILD -u PREFIX -u DESTDIR -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		SOURCE_DATE_EPOCH=$(DEB_EPOCH) RUNE_COMMIT=$(RUNE_COMMIT) DEB_BUILD_OPTIONS='$(DEB_BUILD_OPTIONS)' \
		dpkg-buildpackage -us -uc -b >../build.log 2>&1 || { tail -30 ../build.log; exit 1; }
	mv $(DEB_DIR)/src/*.deb $(DEB_DIR)/
	rm -rf $(DEB_DIR)/src
	ls $(DEB_DIR)

# make check-deb: just the package tests (make check runs them too):
# test-deb.sh (lintian, contents, an install over this host's system) and
# test-deb-root.sh (a debootstrap'ed Debian 12, cached in
# /var/cache/rune-tests: install, upgrade, remove, purge).
.PHONY: check-deb
check-deb: deps
	BUILD=$(abspath $(BUILD)) TESTS=tests/install/test-deb tests/run.sh
