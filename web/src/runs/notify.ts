/** Optional browser notifications when a run ends or waits (paused), while the tab is hidden. */
const KEY = 'patchbay.notify';

export const notifySupported = (): boolean => typeof Notification !== 'undefined';

export const notifyEnabled = (): boolean =>
  notifySupported() && Notification.permission === 'granted' && localStorage.getItem(KEY) === '1';

/** Asks for permission when needed; answers whether notifications are now on. */
export async function setNotify(on: boolean): Promise<boolean> {
  if (!on || !notifySupported()) {
    localStorage.removeItem(KEY);
    return false;
  }
  const permission =
    Notification.permission === 'default'
      ? await Notification.requestPermission()
      : Notification.permission;
  if (permission !== 'granted') return false;
  localStorage.setItem(KEY, '1');
  return true;
}

/** `tag` names the change (run and status): the same change told twice shows once. */
export function notifyRun(title: string, body: string, tag: string): void {
  if (!notifyEnabled() || document.visibilityState === 'visible') return;
  new Notification(title, { body, tag });
}
