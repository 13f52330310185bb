#ifndef PFGM_CNCURSES_SHIM_H
#define PFGM_CNCURSES_SHIM_H
/* The wide-character API (cchar_t, setcchar, mvadd_wch) needs these before the include. */
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <wchar.h>
#include <stdio.h>
#include <curses.h>
#include <term.h>
#include <langinfo.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Globals and macros that Swift cannot import or that strict concurrency rejects. */
static inline WINDOW *pfgm_stdscr(void) { return stdscr; }
static inline int pfgm_lines(void) { return LINES; }
static inline int pfgm_cols(void) { return COLS; }
static inline int pfgm_colors(void) { return COLORS; }
static inline int pfgm_color_pairs(void) { return COLOR_PAIRS; }
static inline void pfgm_getmaxyx(WINDOW *w, int *y, int *x) { int yy, xx; getmaxyx(w, yy, xx); *y = yy; *x = xx; }
static inline void pfgm_getyx(WINDOW *w, int *y, int *x) { int yy, xx; getyx(w, yy, xx); *y = yy; *x = xx; }
static inline attr_t pfgm_a_normal(void) { return A_NORMAL; }
static inline attr_t pfgm_a_bold(void) { return A_BOLD; }
static inline attr_t pfgm_a_dim(void) { return A_DIM; }
static inline attr_t pfgm_a_reverse(void) { return A_REVERSE; }
static inline attr_t pfgm_a_underline(void) { return A_UNDERLINE; }
static inline attr_t pfgm_a_italic(void) { return A_ITALIC; }
static inline attr_t pfgm_color_pair(int n) { return (attr_t)COLOR_PAIR(n); }
static inline int pfgm_key_f(int n) { return KEY_F(n); }
static inline int pfgm_err(void) { return ERR; }

/* A colour pair whose colours may be 24-bit values (direct-colour terminals): the extended call
   takes ints. */
static inline int pfgm_init_pair(int pair, int fg, int bg) {
    return init_extended_pair(pair, fg, bg);
}

/* One wide character with attributes and a colour pair at (y, x). */
static inline int pfgm_put_wch(int y, int x, wchar_t ch, attr_t attr, short pair) {
    cchar_t cell;
    wchar_t text[2] = { ch, 0 };
    if (setcchar(&cell, text, attr, pair, NULL) != OK) return ERR;
    return mvadd_wch(y, x, &cell);
}

/* The terminal as it was before curses started, and a handler for fatal signals (SIGSEGV, SIGILL, SIGABRT,
   SIGBUS, SIGFPE) that puts it back with async-signal-safe calls only (tcsetattr, write), leaving the
   alternate screen and showing the cursor, then lets the signal take its default course. */
struct pfgm_saved_terminal { struct termios modes; int valid; };

static inline struct pfgm_saved_terminal *pfgm_saved_terminal(void) {
    static struct pfgm_saved_terminal saved;
    return &saved;
}

static inline void pfgm_restore_on_fatal(int sig) {
    static const char restore[] = "\033[0m\033[?25h\033[?1049l\r\n";
    struct pfgm_saved_terminal *saved = pfgm_saved_terminal();
    if (saved->valid) tcsetattr(STDIN_FILENO, TCSANOW, &saved->modes);
    ssize_t ignored = write(STDOUT_FILENO, restore, sizeof restore - 1);
    (void)ignored;
    signal(sig, SIG_DFL);
    raise(sig);
}

static inline void pfgm_install_fatal_signal_restore(void) {
    struct pfgm_saved_terminal *saved = pfgm_saved_terminal();
    saved->valid = tcgetattr(STDIN_FILENO, &saved->modes) == 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = pfgm_restore_on_fatal;
    action.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    int fatal[] = { SIGSEGV, SIGILL, SIGABRT, SIGBUS, SIGFPE };
    sigset_t unblocked;
    sigemptyset(&unblocked);
    for (unsigned i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        sigaction(fatal[i], &action, NULL);
        sigaddset(&unblocked, fatal[i]);
    }
    /* A parent may have blocked them (the mask survives exec); a blocked one sent by kill would wait forever. */
    sigprocmask(SIG_UNBLOCK, &unblocked, NULL);
}
#endif
