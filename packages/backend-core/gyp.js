// For binding.gyp: "include_dirs": ["<!(node -p \"require('@async-io/backend-core/gyp').include\")"]
'use strict';
const path = require('node:path');

exports.include = path.relative(process.cwd(), path.join(__dirname, 'include')).split(path.sep).join('/');
