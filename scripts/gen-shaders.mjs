#!/usr/bin/env node
// Generates src/generated/shaders.ts from shaders/**/*.glsl: one map from kernel name to GLSL text,
// minified (scripts/glsl-minify.mjs: comments and redundant whitespace out, lines kept so compile logs
// still point into the .glsl files; scripts/glsl-rename.mjs: each file's own identifiers shortened).
// The .glsl files stay the single, readable source of truth for
// Node and for the browser bundles (which keep only the kernels their code names:
// scripts/browser-bundle.mjs).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SHADER_MODULE, shaderModule, shaderSources } from './shader-sources.mjs';

const text = shaderModule(shaderSources());
mkdirSync(dirname(SHADER_MODULE), { recursive: true });
let previous = '';
try { previous = readFileSync(SHADER_MODULE, 'utf8'); } catch { /* first run */ }
if (previous !== text) writeFileSync(SHADER_MODULE, text);
