'use strict';
// Written by shardless (runner presets): JUnit XML with a file attribute on every testcase.
const { writeFileSync } = require('node:fs');
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const esc = (s) => String(s == null ? '' : s).replace(ANSI, '').replace(NOT_XML, '')
  .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function toJUnit(cases) {
  const count = (o) => cases.filter((c) => c.outcome === o).length;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites>',
    '<testsuite name="shardless" tests="' + cases.length + '" failures="' + count('failed') + '" skipped="' + count('skipped') + '">'];
  for (const c of cases) {
    const attrs = 'name="' + esc(c.name) + '" classname="' + esc(c.classname || c.file) + '" file="' + esc(c.file) +
      '" time="' + (Number(c.seconds) > 0 ? Number(c.seconds).toFixed(3) : '0') + '"';
    if (c.outcome === 'failed') {
      const message = String(c.message || 'failed');
      out.push('<testcase ' + attrs + '><failure message="' + esc(message.trim().split('\n')[0]) + '">' + esc(message) + '</failure></testcase>');
    } else if (c.outcome === 'skipped') {
      out.push('<testcase ' + attrs + '><skipped/></testcase>');
    } else {
      out.push('<testcase ' + attrs + '/>');
    }
  }
  out.push('</testsuite>', '</testsuites>', '');
  return out.join('\n');
}

function writeJUnit(cases) {
  const path = process.env.SHARDLESS_JUNIT;
  if (path) writeFileSync(path, toJUnit(cases));
}

module.exports = { toJUnit, writeJUnit };
