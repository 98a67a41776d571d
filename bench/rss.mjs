// Runs the tsops CLI (bin/tsops.js, as installed) in this process and reports its peak resident
// memory on stderr when it exits.
process.on('exit', () => {
  process.stderr.write(`maxrss-kb ${process.resourceUsage().maxRSS}\n`);
});
await import('../bin/tsops.js');
