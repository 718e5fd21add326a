/** The dashboard's bound on rendered rows of a virtualized list (web/src/runs/virtual-list.tsx). */
export const MAX_DOM_ROWS = 240;
