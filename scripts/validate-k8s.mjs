// Validates a kustomize directory of Kubernetes manifests against the Kubernetes API
// schemas shipped by the npm package kubernetes-models (run by scripts/validate-k8s.sh).
//
//   node validate-k8s.mjs --modules NODE_MODULES --dir MANIFEST_DIR [--jwtgate BIN]
//
// Checks, each printed as one "ok"/"FAIL" line, then "N passed, M failed":
// - kustomization.yaml: every file it lists (resources, configMapGenerator files) exists,
//   and every other *.yaml manifest of the directory is listed in `resources`;
// - every YAML document of every other *.yaml: the model class for its apiVersion/kind
//   (e.g. apps/v1 Deployment) validates it, and it has no field the schema does not know
//   (a typo such as `readOnlyRootFileSystem` would otherwise be silently ignored; this
//   second check runs once the schema check of the object has passed);
// - the ConfigMaps of configMapGenerator, built as kustomize builds them, validate too;
// - every configMap volume of a workload names a ConfigMap defined here;
// - with --jwtgate BIN, every ConfigMap key named jwtgate.yaml passes `BIN --check-config`;
// - when `kubectl` is on PATH (and JWTGATE_SKIP_KUBECTL is unset), `kubectl kustomize`
//   renders the directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

function parseArgs(argv) {
  const out = { modules: '', dir: '', jwtgate: '' };
  for (let i = 0; i < argv.length; i += 1) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in out) || i + 1 >= argv.length) {
      console.error(`usage: node validate-k8s.mjs --modules DIR --dir DIR [--jwtgate BIN] (bad: ${argv[i]})`);
      process.exit(2);
    }
    out[key] = argv[++i];
  }
  if (!out.modules || !out.dir) {
    console.error('usage: node validate-k8s.mjs --modules DIR --dir DIR [--jwtgate BIN]');
    process.exit(2);
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const require = createRequire(join(resolve(args.modules), 'noop.js'));
const yaml = require('js-yaml');

let passed = 0;
let failed = 0;
function ok(what) {
  passed += 1;
  console.log(`ok   ${what}`);
}
function fail(what, why) {
  failed += 1;
  console.log(`FAIL ${what}: ${why}`);
}

// The model class of a built-in kind: "apps/v1" -> kubernetes-models/apps/v1, "v1" ->
// kubernetes-models/v1. null when the package has no such group/version or kind.
function modelClass(apiVersion, kind) {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[a-z0-9.\-/]+$/.test(apiVersion)) {
    return null;
  }
  try {
    const mod = require(`kubernetes-models/${apiVersion}`);
    return typeof mod[kind] === 'function' ? mod[kind] : null;
  } catch {
    return null;
  }
}

// Wraps a plain JSON tree in proxies that record which members the schema validator reads.
// A member never read by the validator of an object whose keys it never enumerated (maps
// like labels or data are enumerated) is a field the schema does not define.
function track(value, path, seen) {
  if (Array.isArray(value)) {
    return value.map((v, i) => track(v, `${path}[${i}]`, seen));
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const target = {};
  for (const [k, v] of Object.entries(value)) {
    target[k] = track(v, path ? `${path}.${k}` : k, seen);
  }
  const record = { path, target, read: new Set(), enumerated: false };
  seen.push(record);
  return new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === 'string') {
        record.read.add(key);
      }
      return Reflect.get(t, key, receiver);
    },
    ownKeys(t) {
      record.enumerated = true;
      return Reflect.ownKeys(t);
    },
  });
}

// Validates one object; returns a list of problems (empty when valid).
function validateObject(doc) {
  const Model = modelClass(doc.apiVersion, doc.kind);
  if (Model === null) {
    return [`no Kubernetes schema for apiVersion "${doc.apiVersion}" kind "${doc.kind}"`];
  }
  const seen = [];
  const tracked = track(JSON.parse(JSON.stringify(doc)), '', seen);
  try {
    Model.prototype.validate.call(tracked);
  } catch (e) {
    return [e.message];
  }
  const unknown = [];
  for (const r of seen) {
    if (r.enumerated) {
      continue;
    }
    for (const key of Object.keys(r.target)) {
      if (!r.read.has(key)) {
        unknown.push(r.path ? `${r.path}.${key}` : key);
      }
    }
  }
  return unknown.length ? [`unknown field(s): ${unknown.join(', ')}`] : [];
}

function describe(doc) {
  const name = doc && doc.metadata && doc.metadata.name ? doc.metadata.name : '(no name)';
  return `${doc.apiVersion} ${doc.kind} ${name}`;
}

function readYamlDocuments(file) {
  return yaml.loadAll(readFileSync(file, 'utf8')).filter((d) => d !== null && d !== undefined);
}

// "key=path" or "path" (the key is then the file's base name), as kustomize reads it.
function generatorFile(entry) {
  const eq = entry.indexOf('=');
  return eq > 0 ? { key: entry.slice(0, eq), path: entry.slice(eq + 1) } : { key: basename(entry), path: entry };
}

function checkJwtgateConfig(bin, label, file) {
  const r = spawnSync(bin, ['--check-config', file], { encoding: 'utf8' });
  if (r.error) {
    fail(label, `cannot run ${bin}: ${r.error.message}`);
  } else if (r.status === 0) {
    ok(label);
  } else {
    const text = `${r.stderr}${r.stdout}`.trim().split('\n').join(' | ');
    fail(label, `jwtgate --check-config exited ${r.status}: ${text}`);
  }
}

const dir = resolve(args.dir);
if (!existsSync(dir) || !statSync(dir).isDirectory()) {
  console.error(`validate-k8s: ${dir} is not a directory`);
  process.exit(2);
}
const manifests = readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml' && f !== 'kustomization.yml')
  .sort();

// 1. kustomization.yaml
const configMaps = []; // { label, doc, sources: {key: file it was read from}, generated }
const kustomizationFile = ['kustomization.yaml', 'kustomization.yml'].map((f) => join(dir, f)).find(existsSync);
if (kustomizationFile === undefined) {
  fail('kustomization.yaml', 'missing');
} else {
  const label = basename(kustomizationFile);
  let k = null;
  try {
    k = yaml.load(readFileSync(kustomizationFile, 'utf8'));
  } catch (e) {
    fail(label, `not valid YAML: ${e.message}`);
  }
  if (k !== null) {
    const problems = [];
    if (k.kind !== 'Kustomization') {
      problems.push(`kind is "${k.kind}", expected Kustomization`);
    }
    const resources = Array.isArray(k.resources) ? k.resources : [];
    for (const r of resources) {
      if (!existsSync(join(dir, r))) {
        problems.push(`resources: ${r} does not exist`);
      }
    }
    for (const m of manifests) {
      if (!resources.includes(m)) {
        problems.push(`${m} is not listed in resources`);
      }
    }
    for (const gen of Array.isArray(k.configMapGenerator) ? k.configMapGenerator : []) {
      const data = {};
      const sources = {};
      for (const entry of Array.isArray(gen.files) ? gen.files : []) {
        const { key, path } = generatorFile(String(entry));
        const full = join(dir, path);
        if (!existsSync(full)) {
          problems.push(`configMapGenerator ${gen.name}: ${path} does not exist`);
          continue;
        }
        data[key] = readFileSync(full, 'utf8');
        sources[key] = full;
      }
      for (const entry of Array.isArray(gen.literals) ? gen.literals : []) {
        const s = String(entry);
        const eq = s.indexOf('=');
        data[s.slice(0, eq)] = s.slice(eq + 1);
      }
      configMaps.push({
        label: `${label}: configMapGenerator ${gen.name}`,
        doc: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: gen.name }, data },
        sources,
        generated: true,
      });
    }
    if (problems.length) {
      fail(label, problems.join('; '));
    } else {
      ok(`${label}: every listed file exists, every manifest is listed`);
    }
  }
}

// 2. Every document of every manifest.
const documents = [];
for (const m of manifests) {
  let docs;
  try {
    docs = readYamlDocuments(join(dir, m));
  } catch (e) {
    fail(m, `not valid YAML: ${e.message}`);
    continue;
  }
  if (docs.length === 0) {
    fail(m, 'no Kubernetes object in the file');
  }
  docs.forEach((doc, i) => {
    const label = `${m}#${i}: ${describe(doc)}`;
    const problems = validateObject(doc);
    if (problems.length) {
      fail(label, problems.join('; '));
    } else {
      ok(label);
    }
    documents.push(doc);
    if (doc.kind === 'ConfigMap') {
      configMaps.push({ label: `${m}#${i}: ConfigMap ${doc.metadata && doc.metadata.name}`, doc, sources: {}, generated: false });
    }
  });
}

// 3. Generated ConfigMaps.
for (const cm of configMaps.filter((c) => c.generated)) {
  const problems = validateObject(cm.doc);
  if (problems.length) {
    fail(cm.label, problems.join('; '));
  } else {
    ok(`${cm.label}: v1 ConfigMap (keys: ${Object.keys(cm.doc.data).join(', ')})`);
  }
}

// 4. configMap volumes name a ConfigMap defined here.
const configMapNames = new Set(configMaps.map((c) => c.doc.metadata && c.doc.metadata.name));
for (const doc of documents) {
  const spec = doc.spec && doc.spec.template && doc.spec.template.spec;
  if (!spec || !Array.isArray(spec.volumes)) {
    continue;
  }
  for (const v of spec.volumes) {
    if (v && v.configMap) {
      const label = `${describe(doc)}: volume ${v.name} -> ConfigMap ${v.configMap.name}`;
      if (configMapNames.has(v.configMap.name) || v.configMap.optional === true) {
        ok(label);
      } else {
        fail(label, 'no such ConfigMap in this directory');
      }
    }
  }
}

// 5. jwtgate configurations.
if (args.jwtgate) {
  const tmp = mkdtempSync(join(tmpdir(), 'validate-k8s-'));
  try {
    for (const cm of configMaps) {
      for (const [key, text] of Object.entries(cm.doc.data || {})) {
        if (key !== 'jwtgate.yaml') {
          continue;
        }
        let file = cm.sources[key];
        if (!file) {
          file = join(tmp, `${cm.doc.metadata.name}-${key}`);
          writeFileSync(file, text);
        }
        checkJwtgateConfig(args.jwtgate, `${cm.label}: ${key} passes jwtgate --check-config`, file);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// 6. kustomize can render the directory.
if (!process.env.JWTGATE_SKIP_KUBECTL && spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0) {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (r.status === 0) {
    ok(`kubectl kustomize renders ${yaml.loadAll(r.stdout).filter(Boolean).length} objects`);
  } else {
    fail('kubectl kustomize', (r.stderr || r.stdout).trim().split('\n').join(' | '));
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
