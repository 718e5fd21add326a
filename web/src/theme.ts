/** Light, dark or system theme: an attribute on <html> the stylesheet reads, kept in localStorage. */
export type Theme = 'light' | 'dark' | 'system';

const KEY = 'patchbay.theme';

export function storedTheme(): Theme {
  const value = window.localStorage.getItem(KEY);
  return value === 'light' || value === 'dark' ? value : 'system';
}

export function applyTheme(theme: Theme): void {
  if (theme === 'system') window.localStorage.removeItem(KEY);
  else window.localStorage.setItem(KEY, theme);
  document.documentElement.dataset.theme = theme;
}
