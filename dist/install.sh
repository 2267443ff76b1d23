#!/bin/sh
# dist/install.sh install|uninstall — what `make install` / `make uninstall`
# do (docs/packaging.md).  Environment: BUILD (the build folder, default
# build), PREFIX (/usr/local), DESTDIR (empty), and, derived from PREFIX
# unless set: BINDIR, SBINDIR, DATADIR, MANDIR, DOCDIR, SYSCONFDIR (/etc for
# PREFIX=/usr, else PREFIX/etc), UNITDIR (PREFIX/lib/systemd/system),
# COMPLETIONDIR (DATADIR/bash-completion/completions), LIBDIR (PREFIX/lib:
# SQLite's extension for packed tables goes to LIBDIR/vnd/).
# Configuration files are installed only where none exists yet, and
# uninstall leaves them (and /etc/vnd's secrets) in place.  Neither makes
# the user vnd nor a secret: docs/packaging.md says how (the Debian
# packages do both).
set -eu
cd "$(dirname "$0")/.."
action=${1:-install}
BUILD=${BUILD:-build}
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
BINDIR=${BINDIR:-$PREFIX/bin}
SBINDIR=${SBINDIR:-$PREFIX/sbin}
DATADIR=${DATADIR:-$PREFIX/share}
MANDIR=${MANDIR:-$DATADIR/man}
DOCDIR=${DOCDIR:-$DATADIR/doc/vnd}
if [ "$PREFIX" = /usr ]; then SYSCONFDIR=${SYSCONFDIR:-/etc}; else SYSCONFDIR=${SYSCONFDIR:-$PREFIX/etc}; fi
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
COMPLETIONDIR=${COMPLETIONDIR:-$DATADIR/bash-completion/completions}
LIBDIR=${LIBDIR:-$PREFIX/lib}
D=$DESTDIR

MAN1="man/vnd.1"
MAN5="man/vnd-parse.conf.5 man/vnd-collect.conf.5 man/vnd-nib.5"
MAN8="man/vnd-tabled.8 man/vnd-controld.8 man/vnd-pg-setup.8"
UNITS="vnd-tabled.service vnd-controld.service"
CONFS="tabled.conf controld.conf nib.json"

# The units and configuration name installed paths: rewrite them for PREFIX.
fix_paths() {
    sed -e "s#/usr/sbin/#$SBINDIR/#g" -e "s#/etc/vnd/#$SYSCONFDIR/vnd/#g" \
        -e "s#/usr/share/doc/vnd-tabled/#$DOCDIR/#g" \
        -e "s#/usr/share/doc/vnd-controld/#$DOCDIR/#g" "$1"
}

case $action in
install)
    for p in vnd vnd-tabled vnd-controld vnd_packed.so; do
        [ -x "$BUILD/$p" ] || { echo "install.sh: $BUILD/$p not built (make BUILD=$BUILD)" >&2; exit 1; }
    done
    install -d "$D$BINDIR" "$D$SBINDIR" "$D$DATADIR/vnd" "$D$MANDIR/man1" "$D$MANDIR/man5" \
               "$D$MANDIR/man8" "$D$DOCDIR/api" "$D$DOCDIR/examples" "$D$UNITDIR" \
               "$D$COMPLETIONDIR" "$D$SYSCONFDIR/vnd" "$D$LIBDIR/vnd"
    install -m 755 "$BUILD/vnd" "$D$BINDIR/vnd"
    install -m 755 "$BUILD/vnd-tabled" "$BUILD/vnd-controld" "$D$SBINDIR/"
    install -m 755 scripts/vnd-pg-setup "$D$SBINDIR/vnd-pg-setup"
    # SQLite's shell reads packed tables with it (docs/capture.md)
    install -m 644 "$BUILD/vnd_packed.so" "$D$LIBDIR/vnd/vnd_packed.so"
    install -m 755 scripts/testbed.sh "$D$DATADIR/vnd/testbed.sh"
    install -m 755 scripts/demo-live.sh "$D$DATADIR/vnd/demo-live.sh"
    # the web console (vnd-controld --www-dir; its chart library from npm)
    install -d "$D$DATADIR/vnd/www" "$D$DATADIR/vnd/www/vendor"
    install -m 644 www/*.html www/*.js www/*.css "$D$DATADIR/vnd/www/"
    [ -d www/vendor ] && install -m 644 www/vendor/* "$D$DATADIR/vnd/www/vendor/"
    install -m 644 $MAN1 "$D$MANDIR/man1/"
    install -m 644 $MAN5 "$D$MANDIR/man5/"
    install -m 644 $MAN8 "$D$MANDIR/man8/"
    install -m 644 README.md docs/*.md "$D$DOCDIR/"
    install -m 644 docs/api/*.yaml "$D$DOCDIR/api/"
    install -m 644 docs/examples/* "$D$DOCDIR/examples/"
    install -m 644 dist/vnd.bash-completion "$D$COMPLETIONDIR/vnd"
    for u in $UNITS; do
        fix_paths "dist/$u" > "$D$UNITDIR/$u.tmp"
        chmod 644 "$D$UNITDIR/$u.tmp" && mv "$D$UNITDIR/$u.tmp" "$D$UNITDIR/$u"
    done
    for c in $CONFS; do
        if [ -e "$D$SYSCONFDIR/vnd/$c" ]; then
            echo "install.sh: $D$SYSCONFDIR/vnd/$c exists, kept"
        else
            fix_paths "dist/$c" > "$D$SYSCONFDIR/vnd/$c"
            chmod 644 "$D$SYSCONFDIR/vnd/$c"
        fi
    done
    ;;
uninstall)
    rm -f "$D$BINDIR/vnd" "$D$SBINDIR/vnd-tabled" "$D$SBINDIR/vnd-controld" "$D$SBINDIR/vnd-pg-setup" \
          "$D$DATADIR/vnd/testbed.sh" "$D$DATADIR/vnd/demo-live.sh" "$D$COMPLETIONDIR/vnd"
    rm -rf "$D$DATADIR/vnd/www"
    rm -f "$D$LIBDIR/vnd/vnd_packed.so"
    rmdir "$D$LIBDIR/vnd" 2>/dev/null || true
    for m in $MAN1; do rm -f "$D$MANDIR/man1/${m#man/}"; done
    for m in $MAN5; do rm -f "$D$MANDIR/man5/${m#man/}"; done
    for m in $MAN8; do rm -f "$D$MANDIR/man8/${m#man/}"; done
    for u in $UNITS; do rm -f "$D$UNITDIR/$u"; done
    rm -rf "$D$DOCDIR"
    rmdir "$D$DATADIR/vnd" 2>/dev/null || true
    [ ! -d "$D$SYSCONFDIR/vnd" ] || echo "install.sh: $D$SYSCONFDIR/vnd (configuration, secrets) left in place"
    ;;
*)
    echo "usage: dist/install.sh install|uninstall" >&2; exit 2 ;;
esac
