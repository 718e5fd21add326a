/**
 * Light, dark or system theme, kept in localStorage. The stylesheet knows two palettes,
 * `data-theme="light"` and `"dark"` on <html>: the system choice is resolved here (and again
 * when the system's preference changes), so the dark palette is written once.
 */
export type Theme = 'light' | 'dark' | 'system';

const KEY = 'patchbay.theme';
const DARK = '(prefers-color-scheme: dark)';

let choice: Theme = 'system';
let watching = false;

export function storedTheme(): Theme {
  const value = window.localStorage.getItem(KEY);
  return value === 'light' || value === 'dark' ? value : 'system';
}

/** The palette a choice shows now. */
export function resolveTheme(theme: Theme): 'light' | 'dark' {
  if (theme !== 'system') return theme;
  return window.matchMedia(DARK).matches ? 'dark' : 'light';
}

function paint(): void {
  const root = document.documentElement;
  root.dataset.themeChoice = choice;
  root.dataset.theme = resolveTheme(choice);
}

export function applyTheme(theme: Theme): void {
  if (theme === 'system') window.localStorage.removeItem(KEY);
  else window.localStorage.setItem(KEY, theme);
  choice = theme;
  paint();
  if (!watching) {
    watching = true;
    // Follows the system while the choice is "system" (the OS switching at dusk).
    window.matchMedia(DARK).addEventListener('change', paint);
  }
}
