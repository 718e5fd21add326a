/**
 * mcp: how fast the MCP tools answer, driven by the official SDK client as an agent drives it.
 *
 * One `patchbay serve`, then three clients: Streamable HTTP at `/mcp` (bearer token), and
 * `patchbay mcp` over stdio talking to that server (PATCHBAY_URL). Each calls `start_run` N
 * times (a shell run of `true`) and `get_run` on what it started, timing each call from the
 * client's request to its answer. Stdio embedded is left out here: it is its own server.
 *
 * Target (issue 18): starting a run answers in < 500 ms — held to p99 here.
 *
 *   npx tsx bench/mcp.ts [--calls 60]
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  BIN,
  fmtMs,
  heading,
  line,
  main,
  option,
  roundSummary,
  startBenchServer,
  summarize,
  writeResult,
  type Summary,
} from './lib/harness.js';

const TOKEN = 'bench-mcp-token-0123456789';

async function timeCalls(client: Client, calls: number) {
  const start: number[] = [];
  const get: number[] = [];
  for (let i = 0; i < calls + 5; i++) {
    let t0 = performance.now();
    const started = await client.callTool({
      name: 'start_run',
      arguments: { command: ['true'] },
    });
    const startMs = performance.now() - t0;
    if (started.isError) throw new Error(`start_run failed: ${JSON.stringify(started.content)}`);
    const id = (started.structuredContent as { id: string }).id;
    t0 = performance.now();
    const got = await client.callTool({ name: 'get_run', arguments: { id } });
    const getMs = performance.now() - t0;
    if (got.isError) throw new Error(`get_run failed: ${JSON.stringify(got.content)}`);
    // The first five warm up (JIT, connections), not counted.
    if (i >= 5) {
      start.push(startMs);
      get.push(getMs);
    }
  }
  return { start: roundSummary(summarize(start)), get: roundSummary(summarize(get)) };
}

await main('mcp', async (startedAt) => {
  const calls = option('calls', 60);
  const server = await startBenchServer({
    PATCHBAY_API_TOKENS: TOKEN,
    PATCHBAY_RUN_CREATE_RATE_LIMIT: '100000',
  });
  const results: Record<string, { start: Summary; get: Summary }> = {};
  try {
    const http = new Client({ name: 'patchbay-bench', version: '1.0.0' });
    await http.connect(
      new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
      }),
    );
    results.http = await timeCalls(http, calls);
    await http.close();

    const stdio = new Client({ name: 'patchbay-bench', version: '1.0.0' });
    await stdio.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [BIN, 'mcp'],
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          PATCHBAY_URL: server.url,
          PATCHBAY_TOKEN: TOKEN,
          PATCHBAY_LOG_LEVEL: 'warn',
        },
        stderr: 'ignore',
      }),
    );
    results.stdioRemote = await timeCalls(stdio, calls);
    await stdio.close();
  } finally {
    await server.stop();
  }
  heading('results');
  for (const [name, r] of Object.entries(results)) {
    line(`${name}: start_run`, fmtMs(r.start));
    line(`${name}: get_run`, fmtMs(r.get));
  }
  return writeResult(
    {
      benchmark: 'mcp',
      description: 'MCP tool latency (start_run, get_run) over Streamable HTTP and stdio',
      parameters: { calls, warmup: 5 },
      figures: results,
      targets: Object.entries(results).map(([name, r]) => ({
        name: `${name}: start_run p99`,
        target: '< 500 ms',
        actual: r.start.p99,
        unit: 'ms',
        pass: r.start.p99 < 500,
      })),
      notes: ['Each run is `true` and executes while the next calls arrive.'],
    },
    startedAt,
  );
});
