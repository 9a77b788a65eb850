import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeDigest } from './digest.js';
import { validateDockerArchiveManifest } from './docker-archive-validation.js';
import { createImageConfig } from './image-config.js';
import { validateImageConfig } from './image-config-validation.js';
import { platformFromSystem } from './platform.js';

const DIFF_ID = computeDigest('layer');

/** Returns a valid config, to which each invalid case applies one change. */
function baseConfig(): Record<string, unknown> {
  return {
    architecture: 'amd64',
    os: 'linux',
    created: '1970-01-01T00:00:01Z',
    config: { Cmd: ['/bin/hello'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: [DIFF_ID] },
    history: [{ created_by: 'layer' }],
  };
}

describe('validateImageConfig', () => {
  it('accepts a built config', () => {
    const config = createImageConfig({
      platform: platformFromSystem('armhf-linux'),
      created: new Date(1000),
      diffIds: [DIFF_ID],
      config: {
        User: '1000:1000',
        Env: ['PATH=/bin', 'EMPTY='],
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: ['echo hi'],
        WorkingDir: '/srv',
        Labels: { 'org.opencontainers.image.title': 'hello' },
        ExposedPorts: { '8080/tcp': {}, '53/udp': {}, '9000': {} },
        Volumes: { '/data': {} },
        StopSignal: 'SIGINT',
        Healthcheck: { Test: ['CMD', 'true'], Interval: 30_000_000_000, Retries: 3 },
      },
      history: [{ created_by: 'env', empty_layer: true }, { created_by: 'layer' }],
    });
    expect(validateImageConfig(config)).toEqual([]);
  });

  it('accepts the nulls Docker writes', () => {
    const config = {
      ...baseConfig(),
      config: {
        Cmd: null,
        Entrypoint: null,
        Env: null,
        Labels: null,
        Volumes: null,
        OnBuild: null,
      },
      history: null,
    };
    expect(validateImageConfig(config)).toEqual([]);
  });

  it('accepts an empty history', () => {
    expect(validateImageConfig({ ...baseConfig(), history: [] })).toEqual([]);
  });

  it.each<[string, (config: Record<string, unknown>) => unknown, string, string]>([
    // A config is a JSON object.
    ['array document', () => [], '', 'expected an object, found array'],
    // Runtimes pick images by architecture, so it is required.
    [
      'missing architecture',
      ({ architecture: _, ...rest }) => rest,
      'architecture',
      'missing required string',
    ],
    // An empty os names no operating system.
    ['empty os', (c) => ({ ...c, os: '' }), 'os', 'expected a non-empty string, found ""'],
    // variant is a string such as "v8".
    [
      'numeric variant',
      (c) => ({ ...c, variant: 8 }),
      'variant',
      'expected a string, found number 8',
    ],
    // created is an RFC 3339 date-time with a time zone.
    [
      'created without zone',
      (c) => ({ ...c, created: '1970-01-01T00:00:01' }),
      'created',
      'RFC 3339',
    ],
    // February 30 does not exist.
    [
      'created on February 30',
      (c) => ({ ...c, created: '2024-02-30T00:00:00Z' }),
      'created',
      'RFC 3339',
    ],
    // Without rootfs there are no layers to run.
    ['missing rootfs', ({ rootfs: _, ...rest }) => rest, 'rootfs', 'missing required object'],
    // "layers" is the only rootfs type.
    [
      'rootfs type',
      (c) => ({ ...c, rootfs: { type: 'layer', diff_ids: [DIFF_ID] } }),
      'rootfs.type',
      'expected "layers", found string "layer"',
    ],
    // diff_ids is a list.
    [
      'diff_ids string',
      (c) => ({ ...c, rootfs: { type: 'layers', diff_ids: DIFF_ID } }),
      'rootfs.diff_ids',
      'expected an array of digests',
    ],
    // Each diff ID carries its algorithm.
    [
      'diff ID without algorithm',
      (c) => ({
        ...c,
        rootfs: { type: 'layers', diff_ids: [DIFF_ID, DIFF_ID.slice(7)] },
        history: [],
      }),
      'rootfs.diff_ids[1]',
      'expected a digest',
    ],
    // Env entries are NAME=value.
    [
      'Env without equals',
      (c) => ({ ...c, config: { Env: ['PATH=/bin', 'DEBUG'] } }),
      'config.Env[1]',
      'expected NAME=value, found string "DEBUG"',
    ],
    // An Env name cannot be empty.
    [
      'Env with empty name',
      (c) => ({ ...c, config: { Env: ['=x'] } }),
      'config.Env[0]',
      'NAME=value',
    ],
    // Cmd is an exec-form list, not a shell string.
    [
      'Cmd string',
      (c) => ({ ...c, config: { Cmd: '/bin/hello --help' } }),
      'config.Cmd',
      'expected an array of strings',
    ],
    // Entrypoint items are strings.
    [
      'Entrypoint number',
      (c) => ({ ...c, config: { Entrypoint: ['/bin/sleep', 5] } }),
      'config.Entrypoint[1]',
      'expected a string, found number 5',
    ],
    // Label values are strings.
    [
      'Label number',
      (c) => ({ ...c, config: { Labels: { 'org.example.version': 2 } } }),
      'config.Labels["org.example.version"]',
      'expected a string',
    ],
    // Ports are 1-65535.
    [
      'port out of range',
      (c) => ({ ...c, config: { ExposedPorts: { '70000/tcp': {} } } }),
      'config.ExposedPorts["70000/tcp"]',
      'expected a port such as "8080/tcp"',
    ],
    // Only tcp, udp and sctp are protocols.
    [
      'port protocol',
      (c) => ({ ...c, config: { ExposedPorts: { '80/http': {} } } }),
      'config.ExposedPorts["80/http"]',
      'expected a port',
    ],
    // ExposedPorts is a map of empty objects, not a list.
    [
      'ExposedPorts list',
      (c) => ({ ...c, config: { ExposedPorts: ['80/tcp'] } }),
      'config.ExposedPorts',
      'expected an object, found array',
    ],
    // Volume keys are absolute paths in the container.
    [
      'relative volume',
      (c) => ({ ...c, config: { Volumes: { data: {} } } }),
      'config.Volumes.data',
      'expected an absolute path',
    ],
    // Volume values are empty objects.
    [
      'volume with options',
      (c) => ({ ...c, config: { Volumes: { '/data': { ro: true } } } }),
      'config.Volumes["/data"]',
      'expected an empty object {}',
    ],
    // Health check tests start with NONE, CMD or CMD-SHELL.
    [
      'health check kind',
      (c) => ({ ...c, config: { Healthcheck: { Test: ['SHELL', 'true'] } } }),
      'config.Healthcheck.Test[0]',
      'expected "NONE", "CMD" or "CMD-SHELL"',
    ],
    // Durations are whole nanoseconds.
    [
      'negative interval',
      (c) => ({ ...c, config: { Healthcheck: { Interval: -1 } } }),
      'config.Healthcheck.Interval',
      'expected an integer of at least 0, found number -1',
    ],
    // config is an object.
    ['config string', (c) => ({ ...c, config: 'cmd' }), 'config', 'expected an object'],
    // history is a list.
    ['history object', (c) => ({ ...c, history: {} }), 'history', 'expected an array'],
    // empty_layer is a boolean.
    [
      'empty_layer string',
      (c) => ({ ...c, history: [{ empty_layer: 'true' }] }),
      'history[0].empty_layer',
      'expected a boolean, found string "true"',
    ],
    // One history entry without empty_layer belongs to each layer.
    [
      'history shorter than layers',
      (c) => ({ ...c, history: [{ created_by: 'env', empty_layer: true }] }),
      'history',
      'expected 1 entries without "empty_layer": true, one per diff ID, found 0',
    ],
    // The same rule counted the other way.
    [
      'history longer than layers',
      (c) => ({ ...c, history: [{}, {}] }),
      'history',
      'expected 1 entries without "empty_layer": true, one per diff ID, found 2',
    ],
  ])('reports %s', (_name, change, issuePath, message) => {
    const issues = validateImageConfig(change(baseConfig()));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe(issuePath);
    expect(issues[0]?.message).toContain(message);
  });

  it('reports every issue, not only the first', () => {
    const issues = validateImageConfig({
      architecture: 1,
      rootfs: { type: 'layers', diff_ids: ['a', 'b'] },
    });
    expect(issues.map((issue) => issue.path)).toEqual([
      'architecture',
      'os',
      'rootfs.diff_ids[0]',
      'rootfs.diff_ids[1]',
    ]);
  });

  it('never throws on odd input', () => {
    for (const doc of [null, undefined, 0, 'x', [], { rootfs: null }, { config: [] }]) {
      expect(validateImageConfig(doc).length).toBeGreaterThan(0);
    }
  });
});

describe('createImageConfig with invalid parameters', () => {
  it('rejects an Env entry without equals', () => {
    expect(() =>
      createImageConfig({
        platform: platformFromSystem('x86_64-linux'),
        created: new Date(1000),
        diffIds: [DIFF_ID],
        config: { Env: ['DEBUG'] },
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_IMAGE_CONFIG',
        message: 'creating image config: config.Env[0]: expected NAME=value, found string "DEBUG"',
      }),
    );
  });
});

describe('validators on images made by umoci and skopeo', () => {
  let work: string;

  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'image-spec-umoci-'));
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('finds no issue in their config and manifest', async () => {
    const layout = path.join(work, 'layout');
    const image = `${layout}:test`;
    const file = path.join(work, 'hello.txt');
    await writeFile(file, 'hello\n');
    execFileSync('umoci', ['init', '--layout', layout]);
    execFileSync('umoci', ['new', '--image', image]);
    execFileSync('umoci', [
      'config',
      '--image',
      image,
      '--config.cmd',
      '/bin/hello',
      '--config.env',
      'FOO=bar',
      '--config.exposedports',
      '8080/tcp',
      '--config.volume',
      '/data',
      '--history.created_by',
      'config',
    ]);
    execFileSync('umoci', ['insert', '--image', image, file, '/etc/hello.txt']);

    const archive = path.join(work, 'test.tar');
    execFileSync('skopeo', [
      '--insecure-policy',
      'copy',
      '-q',
      `oci:${image}`,
      `docker-archive:${archive}:hello:1`,
    ]);
    const config = JSON.parse(
      execFileSync('skopeo', [
        'inspect',
        '--config',
        '--raw',
        `docker-archive:${archive}`,
      ]).toString(),
    );
    const extracted = path.join(work, 'manifest.json');
    execFileSync('tar', ['--extract', '--file', archive, '--directory', work, 'manifest.json']);
    const manifest = JSON.parse(await readFile(extracted, 'utf8'));

    expect(config.rootfs.diff_ids).toHaveLength(1);
    expect(validateImageConfig(config)).toEqual([]);
    expect(validateDockerArchiveManifest(manifest)).toEqual([]);
  });
});
