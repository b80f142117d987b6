#!/usr/bin/env node
// The `jobline` bin. A committed file rather than dist/main.js itself, so `npm ci` on a fresh
// clone (before `npm run build`) can link it; it runs the built CLI.
import '../dist/main.js';
