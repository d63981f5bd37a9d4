# Man pages: docs/man/*.8 are roff, shipped as they are (no generator, no
# pandoc needed).  `make man` checks them with groff when groff is installed;
# `make install` puts them in $(PREFIX)/share/man/man8 (man rune, man rune-exec).
MAN_PAGES := $(sort $(wildcard docs/man/*.8))
MANDIR ?= $(PREFIX)/share/man

.PHONY: man install-man

man:
	@if command -v groff >/dev/null 2>&1; then \
		for f in $(MAN_PAGES); do \
			out=$$(groff -man -ww -z $$f 2>&1); \
			[ -z "$$out" ] || { echo "$$f: $$out"; exit 1; }; \
		done; \
		echo "man: $(words $(MAN_PAGES)) pages checked with groff"; \
	else \
		echo "man: groff is not installed; pages not checked"; \
	fi

install-man:
	install -d $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man8/

install: install-man
