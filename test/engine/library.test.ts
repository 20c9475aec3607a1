import { strict as assert } from 'node:assert';
import { RseqEmuError } from '../../src/errors.js';
import { loadUnicorn, unicorn, unicornVersion } from '../../src/engine/unicorn-library.js';

describe('engine: loading libunicorn', () => {
  it('loads libunicorn.so.2 once and reuses it', () => {
    assert.equal(unicorn(), unicorn());
  });

  it('finds Unicorn 2.0 on this machine', () => {
    assert.equal(unicornVersion(), '2.0');
  });

  it('explains how to install the library when it cannot be loaded, with the reason', () => {
    assert.throws(() => loadUnicorn('/nonexistent/libunicorn.so.2'), (e: unknown) => {
      assert.ok(e instanceof RseqEmuError);
      assert.equal(e.code, 'ENGINE_LOAD');
      assert.ok(e.message.startsWith(
        'libunicorn.so.2 not found — install it with `apt-get install -y libunicorn2` (Debian 12)',
      ), e.message);
      assert.match(e.message, /\/nonexistent\/libunicorn\.so\.2/);
      return true;
    });
  });
});
