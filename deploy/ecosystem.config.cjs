// pm2 process file: `pm2 start deploy/ecosystem.config.cjs` from the app folder.
// One instance only: the generation worker and SQLite live in this one process.
// pm2 starts the script with the Node.js it runs on: that must be Node 24 LTS (`.nvmrc`).
module.exports = {
  apps: [
    {
      name: 'beem',
      script: 'dist/server/main.mjs',
      cwd: __dirname + '/..',
      instances: 1,
      exec_mode: 'fork',
      env: { NODE_ENV: 'production' },
      // Settings come from the environment; pm2 can load a file with `--env-file` or `env_file`.
      kill_timeout: 15000,
      max_memory_restart: '1G',
      time: true,
    },
  ],
};
