// npm's `prepare` script: build dist/ after `npm install` (and before `npm pack`).
//
// npm also runs `prepare` when `npx patchbay` inside this checkout links the checkout into
// npm's exec cache (npm_command=exec, once per checkout path): that rebuilt dist/ for 25-50 s
// in silence, since npm hides the output of a linked package's scripts. The checkout's own
// `npm install` has built dist/ already, so under npx this keeps the dist/ that is there and
// builds only when it is missing. `npm run build` rebuilds by hand.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const built = ['../dist/patchbay.mjs', '../dist/cli/main.js'].some((p) =>
  existsSync(new URL(p, import.meta.url)),
);
if (process.env.npm_command === 'exec' && built) {
  process.stderr.write(
    'patchbay: dist/ is built; npx uses it as it is (`npm run build` rebuilds)\n',
  );
  process.exit(0);
}
process.stderr.write('patchbay: building dist/ (npm run build)…\n');
const res = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
process.exit(res.status ?? 1);
