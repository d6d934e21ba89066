// A real OpenID Connect provider (the certified `oidc-provider` package) on 127.0.0.1, for the single
// sign-on tests. It is started by tests/oidc_provider.py with the path of a JSON file:
//
//   { "port": 5xxxx,
//     "accounts": [{ "id": "ada", "claims": { "email": "...", "email_verified": true, "groups": [...] } }],
//     "clients": [{ "client_id": "assure", "client_secret": "...", "mischief": "wrong-audience" }] }
//
// Sign-in is a small form that names the directory account by its email address (no password: the
// tests are about what the portal does with the provider's answer). A client may be given a
// "mischief": its ID tokens are then spoiled in one way after the provider has issued them (another
// audience, a signature by a key the provider does not publish, or an expiry in the past), so that
// the portal's own verification has something real to refuse.
import { readFileSync } from 'node:fs';

import * as jose from 'jose';
import { Provider } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const KID = 'assure-test-signing-key';

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: KID, alg: 'RS256', use: 'sig' };
// Never published: a token signed with it carries the published key's id but cannot verify.
const { privateKey: strangerKey } = await jose.generateKeyPair('RS256');

const accounts = new Map(config.accounts.map((account) => [account.id, account]));
const byEmail = new Map(config.accounts.map((account) => [String(account.claims.email || '').toLowerCase(), account]));
const mischief = new Map(config.clients.filter((c) => c.mischief).map((c) => [c.client_id, c.mischief]));

const page = (title, body) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body><main><h1>${title}</h1>${body}</main></body></html>`;

const escape = (text) => String(text).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const provider = new Provider(issuer, {
  clients: config.clients.map(({ client_id, client_secret }) => ({
    client_id,
    client_secret,
    // "native" lets the portal, served on any free port of 127.0.0.1 by the tests, use its address
    // (RFC 8252 loopback redirects); the client still authenticates with its secret.
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/sign-in/directory/callback', 'http://localhost/sign-in/directory/callback'],
    post_logout_redirect_uris: ['http://127.0.0.1/sign-in', 'http://localhost/sign-in'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['test-provider-cookie-key'] },
  pkce: { required: () => true },
  // Claims go into the ID token, as Entra ID does, not only into the userinfo endpoint.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups', 'roles'],
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page(
          'Sign out of the directory',
          `${form}<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`,
        );
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Signed out of the directory', '<p>You have signed out.</p>');
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Directory error', `<p>${escape(out.error)}: ${escape(out.error_description || '')}</p>`);
  },
  async findAccount(ctx, id) {
    const account = accounts.get(id);
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account.claims }) };
  },
});

async function formBody(ctx) {
  let raw = '';
  for await (const chunk of ctx.req) raw += chunk;
  return new URLSearchParams(raw);
}

async function spoil(kind, idToken) {
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  let key = privateKey;
  if (kind === 'wrong-audience') Object.assign(claims, { aud: 'another-application', azp: 'another-application' });
  else if (kind === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  else if (kind === 'bad-signature') key = strangerKey;
  else throw new Error(`unknown mischief ${kind}`);
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: KID }).sign(key);
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/favicon.ico') {
    ctx.status = 204;
    return;
  }
  const interaction = ctx.path.match(/^\/interaction\/([\w-]+)$/);
  if (interaction && ctx.method === 'GET') {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    ctx.type = 'html';
    ctx.body = page(
      'Sign in to the directory',
      `<form method="post" action="/interaction/${escape(details.uid)}">
         <label for="email">Directory email</label> <input id="email" name="email" type="email" required>
         <button type="submit">Continue</button>
       </form>`,
    );
    return;
  }
  if (interaction && ctx.method === 'POST') {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const account = byEmail.get(((await formBody(ctx)).get('email') || '').trim().toLowerCase());
    if (!account) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page('Sign in to the directory', '<p>No such directory account.</p>');
      return;
    }
    const grant = new provider.Grant({ accountId: account.id, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: account.id }, consent: { grantId } });
    return;
  }
  await next();
  const kind = ctx.path === '/token' && ctx.status === 200 ? mischief.get(ctx.oidc?.client?.clientId) : undefined;
  if (kind && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: await spoil(kind, ctx.body.id_token) };
  }
});

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`openid provider listening on ${issuer}`);
});
