import { describe, expect, it } from 'vitest';

import { parseConfig } from './config';

describe('config.json', () => {
  it('means same origin when empty or missing values', () => {
    expect(parseConfig({})).toEqual({ apiUrl: '', streamUrl: '', auth: null });
    expect(parseConfig(null)).toEqual({ apiUrl: '', streamUrl: '', auth: null });
    expect(parseConfig({ apiUrl: '', streamUrl: '' })).toEqual({ apiUrl: '', streamUrl: '', auth: null });
  });

  it('sends the stream to apiUrl unless streamUrl is given, without trailing slashes', () => {
    expect(parseConfig({ apiUrl: 'https://api.example/' })).toEqual({ apiUrl: 'https://api.example', streamUrl: 'https://api.example', auth: null });
    expect(parseConfig({ apiUrl: 'https://api.example', streamUrl: 'https://abc.lambda-url.us-east-1.on.aws/' })).toEqual({
      apiUrl: 'https://api.example',
      streamUrl: 'https://abc.lambda-url.us-east-1.on.aws',
      auth: null,
    });
  });

  it('refuses values that are not http(s) URLs, naming the key', () => {
    expect(() => parseConfig({ apiUrl: 42 })).toThrow(/apiUrl/);
    expect(() => parseConfig({ streamUrl: 'javascript:alert(1)' })).toThrow(/streamUrl/);
    expect(() => parseConfig({ apiUrl: 'not a url' })).toThrow();
  });

  const COGNITO = { type: 'cognito', region: 'us-east-1', userPoolId: 'us-east-1_AbC123', clientId: '5abc' };

  it('means no sign-in when auth is missing or null', () => {
    expect(parseConfig({ apiUrl: 'https://api.example' }).auth).toBeNull();
    expect(parseConfig({ auth: null }).auth).toBeNull();
  });

  it('reads a Cognito auth block; the endpoint is optional (absent in the cloud)', () => {
    expect(parseConfig({ auth: COGNITO }).auth).toEqual({ ...COGNITO, endpoint: null });
    expect(parseConfig({ auth: { ...COGNITO, endpoint: 'http://127.0.0.1:5000/' } }).auth).toEqual({
      ...COGNITO,
      endpoint: 'http://127.0.0.1:5000',
    });
  });

  it('refuses an auth block it cannot sign in with, naming the key', () => {
    expect(() => parseConfig({ auth: 'cognito' })).toThrow(/"auth" must be an object/);
    expect(() => parseConfig({ auth: { ...COGNITO, type: 'oidc' } })).toThrow(/auth.type/);
    expect(() => parseConfig({ auth: { ...COGNITO, clientId: '' } })).toThrow(/auth.clientId/);
    expect(() => parseConfig({ auth: { ...COGNITO, region: undefined } })).toThrow(/auth.region/);
    expect(() => parseConfig({ auth: { ...COGNITO, region: 'virginia' } })).toThrow(/not an AWS region/);
    expect(() => parseConfig({ auth: { ...COGNITO, userPoolId: 'eu-west-1_AbC123' } })).toThrow(/not a pool of region us-east-1/);
    expect(() => parseConfig({ auth: { ...COGNITO, endpoint: 'ftp://x' } })).toThrow(/auth.endpoint/);
  });
});
