import assert from 'node:assert/strict'
import { test } from 'node:test'
import { normalizePath, PathPrefixes } from '../src/index.js'

test('every hostile spelling of /admin normalises to /admin', () => {
  for (const spelling of [
    '/admin',
    '/ADMIN',
    '/Admin/',
    '/%61dmin',
    '/%41DMIN',
    '//admin',
    '///admin//',
    '/./admin',
    '/public/../admin',
    '/public/%2e%2e/admin',
    '/public/%2E%2E/admin',
    '/a/b/../../admin',
    '/../admin',
    '/admin;x',
    '/admin;jsessionid=1?q=1',
    '/public;/../admin',
    '/public%2f..%2fadmin',
    '/public\\..\\admin',
    '/admin?x=/other',
    '/admin#frag',
  ]) {
    assert.equal(normalizePath(spelling), '/admin', spelling)
  }
})

test('reserved and non-ASCII percent-encodings stay encoded; double encoding is not decoded twice', () => {
  assert.equal(normalizePath('/a%3Bb'), '/a%3bb')
  assert.equal(normalizePath('/%2561dmin'), '/%2561dmin')
  assert.equal(normalizePath('/café'), '/caf%c3%a9')
  assert.equal(normalizePath('/caf%C3%A9'), '/caf%c3%a9')
  assert.equal(normalizePath('/a%zz'), '/a%zz')
  assert.equal(normalizePath(''), '/')
  assert.equal(normalizePath('/'), '/')
})

test('path prefixes match on segment boundaries only', () => {
  const p = new PathPrefixes()
  p.add('/admin/')
  p.add('/API/v1')
  const n = (s: string) => p.matches(normalizePath(s))
  assert.equal(n('/admin'), true)
  assert.equal(n('/admin/users'), true)
  assert.equal(n('/%61dmin/users'), true)
  assert.equal(n('/administrator'), false)
  assert.equal(n('/api/v1/x'), true)
  assert.equal(n('/api/v10'), false)
  assert.equal(n('/api'), false)
  const root = new PathPrefixes()
  root.add('/')
  assert.equal(root.matches('/anything'), true)
})
