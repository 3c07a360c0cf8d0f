"""The baseline: a bare Sanic app that answers one small JSON document."""

import sys

from sanic import Sanic, json

app = Sanic("bare_hello")


@app.get("/")
async def hello(request):
    return json({"hello": "world"})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), single_process=True, access_log=False, motd=False)
