"""The page a browser without a key sees at the gateway's URL: how to connect, and nothing secret.

nginx returns it itself (``return 200 '…'`` in the configuration), so the worker reads no file from the
private key directory. The text is checked to hold no character nginx would read as the end of the string
or a variable (``'``, ``\\``, ``$``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from toolkit.errors import UsageError

_FORBIDDEN = ("'", "\\", "$")


def render_help_page(url: str, models: Sequence[str] = (), fingerprint: str | None = None) -> str:
    """The HTML of the connect page for the gateway at ``url`` (a placeholder where the key goes):
    ``models`` are the names served when the page was written (names with a character the page cannot
    hold are left out); ``fingerprint``: the gateway speaks HTTPS with that self-signed certificate."""
    base = html.escape(url, quote=True)
    names = [html.escape(name) for name in models if not any(char in name for char in _FORBIDDEN)]
    listed = "".join(f"<li><code>{name}</code></li>" for name in names) or "<li>none yet</li>"
    if fingerprint is None:
        transport = "<p>This is plain HTTP: others on the same network can read what is sent.</p>"
    else:
        fp = html.escape(fingerprint)
        transport = (
            "<h2>HTTPS</h2><p>This share speaks HTTPS with a self-signed certificate. Its SHA-256 "
            f"fingerprint (check it with the owner):</p><pre>{fp}</pre><p>gpuless pins it:</p>"
            f"<pre>gpuless join {base} --key YOUR-KEY --fingerprint {fp}</pre><p>Other clients trust the "
            "certificate file its owner hands you: <code>SSL_CERT_FILE=share-cert.pem</code> (openai), "
            "<code>curl --cacert share-cert.pem</code>.</p>"
        )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gpuless: a shared model</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em}}
pre{{background:#f3f3f3;padding:.8em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}}</style></head><body>
<h1>A model shared with gpuless</h1>
<p>This laptop serves a local model to its team. Every request needs the key its owner gave you,
sent as <code>Authorization: Bearer YOUR-KEY</code>. Without one, the server answers 401.</p>
<h2>Models</h2>
<ul id="models">{listed}</ul>
<h2>OpenAI-compatible clients</h2>
<pre>OPENAI_BASE_URL={base}/v1
OPENAI_API_KEY=YOUR-KEY</pre>
<h2>Python (openai)</h2>
<pre>from openai import OpenAI
client = OpenAI(base_url="{base}/v1", api_key="YOUR-KEY")
print([m.id for m in client.models.list()])</pre>
<h2>Python (ollama)</h2>
<pre>import ollama
client = ollama.Client(host="{base}", headers={{"Authorization": "Bearer YOUR-KEY"}})
print(client.list())</pre>
<h2>curl</h2>
<pre>curl -H "Authorization: Bearer YOUR-KEY" {base}/v1/models</pre>
<p>The list at <code>/v1/models</code> is always current.</p>
{transport}
</body></html>
"""
    bad = [char for char in _FORBIDDEN if char in page]
    if bad:
        raise UsageError(f"the help page cannot hold {bad[0]!r} (URL {url!r})")
    return page
