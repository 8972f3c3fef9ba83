"""The sandbox's ``view`` rendering of storage (ctk_core/sandbox/bodies.py)."""

from __future__ import annotations

from ctk_core.sandbox.bodies import render_body


def test_view_renders_a_code_macro_as_pre_with_the_code_only():
    storage = (
        '<p>Before</p><ac:structured-macro ac:name="code" ac:schema-version="1">'
        '<ac:parameter ac:name="language">python</ac:parameter>'
        '<ac:parameter ac:name="title">Example</ac:parameter>'
        "<ac:plain-text-body><![CDATA[if a < b:\n    print('x & y')]]></ac:plain-text-body>"
        "</ac:structured-macro><p>After</p>"
    )
    view = render_body(storage, "view")["view"]["value"]
    assert view == (
        '<p>Before</p><pre class="language-python">'
        "if a &lt; b:\n    print(&#x27;x &amp; y&#x27;)</pre><p>After</p>"
    )
    bare = render_body(
        '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[plain]]>'
        "</ac:plain-text-body></ac:structured-macro>",
        "view",
    )["view"]["value"]
    assert bare == "<pre>plain</pre>"
