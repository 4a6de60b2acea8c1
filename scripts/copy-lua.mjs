// The bundle reads its Lua scripts from dist/lua at run time (src/scripts.ts), so copy them there.
import { cpSync, mkdirSync, rmSync } from 'node:fs';

rmSync('dist/lua', { recursive: true, force: true });
mkdirSync('dist/lua', { recursive: true });
cpSync('src/lua', 'dist/lua', { recursive: true });
