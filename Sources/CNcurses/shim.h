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

/* One wide character with attributes and a colour pair at (y, x). */
static inline int pfgm_put_wch(int y, int x, wchar_t ch, attr_t attr, short pair) {
    cchar_t cell;
    wchar_t text[2] = { ch, 0 };
    if (setcchar(&cell, text, attr, pair, NULL) != OK) return ERR;
    return mvadd_wch(y, x, &cell);
}
#endif
