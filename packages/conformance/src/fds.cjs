'use strict';
// Portable fd accounting for the tests and their fixtures: how many
// descriptors this process holds, found by fstat(2) over the descriptor
// table, not by listing Linux's /proc/self/fd (macOS, the BSDs and illumos
// have no such directory). POSIX hands out the lowest free number, so the
// table is dense from 0; the scan stops after GAP numbers in a row that are
// not open (EBADF), which no test's fds leave (none dup2()s to a far number).
const { fstatSync } = require('node:fs');

const GAP = 1024;

/** The open fd numbers of this process, ascending. */
function openFds() {
  const out = [];
  for (let fd = 0, misses = 0; misses < GAP; fd++) {
    try {
      fstatSync(fd);
      out.push(fd);
      misses = 0;
    } catch (error) {
      if (error.code !== 'EBADF') throw error;
      misses++;
    }
  }
  return out;
}

/** How many fds this process has open. */
function fdCount() {
  return openFds().length;
}

module.exports = { openFds, fdCount };
