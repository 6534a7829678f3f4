"""The floor: a minimal Starlette echo app doing the least any POST endpoint must do.

``/echo/json`` parses a ~400-byte add-contact-shaped JSON body and answers ~150 bytes (status
and a few of the contact's fields); ``/echo/xml`` does the same with lxml. rehber's request
rates are reported as ratios against these, measured in the same run. Run it as
``uvicorn bench.floor_app:app --http httptools --loop uvloop``.
"""

from __future__ import annotations

import orjson
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_OK = "İşlem başarılı"
_ECHOED = ("id", "name", "surname", "gsm")


async def echo_json(request: Request) -> Response:
    contact = orjson.loads(await request.body())["request"]["contact"]
    answer = {
        "response": {
            "status": {"code": 200, "message": _OK},
            "contact": {field: contact.get(field) for field in _ECHOED},
        }
    }
    return Response(orjson.dumps(answer), media_type="application/json")


async def echo_xml(request: Request) -> Response:
    contact = etree.fromstring(await request.body(), _PARSER).find("contact")
    out = etree.Element("response")
    status = etree.SubElement(out, "status")
    etree.SubElement(status, "code").text = "200"
    etree.SubElement(status, "message").text = _OK
    echoed = etree.SubElement(out, "contact")
    for field in _ECHOED:
        etree.SubElement(echoed, field).text = (
            contact.findtext(field) if contact is not None else ""
        )
    body = etree.tostring(out, xml_declaration=True, encoding="UTF-8")
    return Response(body, media_type="application/xml")


app = Starlette(
    routes=[
        Route("/echo/json", echo_json, methods=["POST"]),
        Route("/echo/xml", echo_xml, methods=["POST"]),
    ]
)
