# shellcheck shell=bash
# Helpers of the package tests (sourced): TAP-like lines, and the packages
# of this tree in $DEB (BUILD/deb), built with make deb unless those there
# are from this commit and no file of the tree is newer.
# Sets SRC (the tree, the current directory), BUILD, DEB.
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$SRC" || exit 1
BUILD=${BUILD:-$SRC/build}
DEB=$BUILD/deb

ok() { echo "ok - $1"; }
nok() {
	printf '# %s\n' "${@:2}"
	echo "not ok - $1"
}
check() { # name diagnostic command...
	local name=$1 diag=$2
	shift 2
	if "$@"; then ok "$name"; else nok "$name" "$diag"; fi
}

# debs_fresh: DEB holds this commit's packages and no file of the tree is newer.
debs_fresh() {
	local d f
	d=$(ls "$DEB"/rune_*+git*.g"$(git rev-parse --short HEAD)"_*.deb 2>/dev/null) || return 1
	while IFS= read -r -d '' f; do
		[ "$f" -nt "$d" ] && return 1
	done < <(git ls-files -z --cached --others --exclude-standard)
	return 0
}

# debs LOG: the packages in DEB, reused or built; "ok - make deb", or a failure and exit 1.
debs() {
	if debs_fresh; then
		echo "# reusing $DEB"
	elif ! make -s BUILD="$BUILD" deb >"$1" 2>&1; then
		nok "make deb" "$(tail -20 "$1")"
		exit 1
	fi
	ok "make deb"
}
