/**
 * Every page of the dashboard: its path pattern, its lazily loaded module (one chunk per
 * page, so the initial JavaScript stays small) and, when it belongs in the navigation, its
 * label. Adding a page is adding a `RouteDef` here (see web/README.md).
 */
import { lazy, type ComponentType, type LazyExoticComponent } from 'react';
import { inboxPages } from './inbox-pages.ts';
import { otherPages } from './other-pages.ts';

export interface PageProps {
  /** The `:name` parts of the matched path. */
  readonly params: Readonly<Record<string, string>>;
}

export interface RouteDef {
  /** e.g. `/runs/:id`; matched segment by segment, first match wins. */
  readonly path: string;
  readonly page: LazyExoticComponent<ComponentType<PageProps>>;
  /** Shown in the navigation when set; `section` is the path prefix that highlights it. */
  readonly nav?: { readonly label: string; readonly section: string };
}

export const routes: readonly RouteDef[] = [
  {
    path: '/runs',
    page: lazy(() => import('./runs/runs-page.tsx')),
    nav: { label: 'Runs', section: '/runs' },
  },
  { path: '/runs/:id', page: lazy(() => import('./runs/run-page.tsx')) },
  // The other pages (conversations to settings): one chunk each, like the runs pages.
  ...otherPages,
  // The inbox, its graph and the connectors (issue 19).
  ...inboxPages,
  { path: '/login', page: lazy(() => import('./pages/login-page.tsx')) },
];

/** Where `/` goes. */
export const HOME = '/runs';
