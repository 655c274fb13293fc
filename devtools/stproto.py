"""A minimal Streamlit websocket client: what the browser's frontend does, without a browser.

The load test drives many of these at once. A session connects to /_stcore/stream with the
subprotocols the frontend sends ("streamlit", then the XSRF token or a placeholder), asks for a
rerun with a ClientState (query string + page url path, like a deep link), and reads ForwardMsgs
until script_finished. It counts what a person would see as a failure: an exception element, an
error alert, a page-not-found, a compile error or a dropped connection.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlparse

import websocket  # websocket-client
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import FileUploaderState, FileURLs, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from urllib3 import encode_multipart_formdata

FINISHED = {
    ForwardMsg.FINISHED_SUCCESSFULLY: "ok",
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile_error",
    ForwardMsg.FINISHED_EARLY_FOR_RERUN: "interrupted",
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment_ok",
}


@dataclass
class RerunResult:
    """One rerun as the client saw it: latency from sending the BackMsg to script_finished."""

    latency_s: float
    status: str  # ok | fragment_ok | interrupted | compile_error | page_not_found | timeout | disconnected
    exceptions: list[str] = field(default_factory=list)  # "Type: message" of exception elements
    error_alerts: list[str] = field(default_factory=list)  # st.error bodies
    media_urls: list[str] = field(default_factory=list)  # /media/... the browser would then fetch
    captions: list[str] = field(default_factory=list)  # image captions, to check what a view shows
    uploaders: list[str] = field(default_factory=list)  # widget ids of st.file_uploader, for upload()
    bytes_received: int = 0
    messages: int = 0

    @property
    def failed(self) -> bool:
        return self.status not in ("ok", "fragment_ok") or bool(self.exceptions) or bool(self.error_alerts)

    def describe_failure(self) -> str:
        parts = [self.status] if self.status not in ("ok", "fragment_ok") else []
        return "; ".join(parts + self.exceptions + [f"st.error: {a}" for a in self.error_alerts])


class StreamlitSession:
    """One browser-like session over Streamlit's websocket (blocking; one per thread)."""

    def __init__(self, base_url: str, timeout: float = 60.0, cookie: str | None = None) -> None:
        """`cookie` ("name=value; ...") is sent with the websocket and media requests, as a browser
        sends what the page's response set (a proxy's sticky-session cookie, see sticky_cookie)."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.cookie = cookie
        host = urlparse(self.base_url).netloc
        ws_url = f"ws://{host}/_stcore/stream"
        # Same subprotocol list as the frontend: selected protocol, then the XSRF token slot.
        self.ws = websocket.create_connection(ws_url, subprotocols=["streamlit", "PLACEHOLDER_AUTH_TOKEN"],
                                              origin=self.base_url, timeout=timeout,
                                              enable_multithread=True, cookie=cookie)
        self.session_id: str | None = None

    def rerun(self, query_string: str = "", page_name: str = "", fetch_media: bool = False,
              widgets: list[WidgetState] | None = None) -> RerunResult:
        """Ask for a rerun as a browser does when it opens `/<page_name>?<query_string>` (with `widgets`
        holding the values of widgets the visitor changed)."""
        msg = BackMsg()
        msg.rerun_script.query_string = query_string
        msg.rerun_script.page_name = page_name
        msg.rerun_script.page_script_hash = ""
        msg.rerun_script.widget_states.widgets.extend(widgets or [])
        start = time.perf_counter()
        result = RerunResult(latency_s=0.0, status="timeout")
        try:
            self.ws.send_binary(msg.SerializeToString())
            deadline = start + self.timeout
            started = False
            while time.perf_counter() < deadline:
                self.ws.settimeout(max(0.1, deadline - time.perf_counter()))
                data = self.ws.recv()
                if not isinstance(data, bytes) or not data:
                    continue
                result.bytes_received += len(data)
                result.messages += 1
                fwd = ForwardMsg()
                fwd.ParseFromString(data)
                kind = fwd.WhichOneof("type")
                if kind == "new_session":
                    started = True
                    self.session_id = self.session_id or fwd.new_session.initialize.session_id or None
                elif kind == "delta":
                    _inspect_delta(fwd, result)
                elif kind == "page_not_found":
                    result.status = "page_not_found"
                elif kind == "session_event" and fwd.session_event.HasField("script_compilation_exception"):
                    exc = fwd.session_event.script_compilation_exception
                    result.exceptions.append(f"{exc.type}: {exc.message}")
                elif kind == "script_finished" and started:
                    # A rerun that is cut short by our own next request is not ours to time.
                    status = FINISHED.get(fwd.script_finished, str(fwd.script_finished))
                    if status == "interrupted":
                        # Cut short from inside (st.switch_page, st.rerun: "/" hands over to /overview):
                        # the run it starts is what the visitor waits for, so follow it.
                        started = False
                        continue
                    result.latency_s = time.perf_counter() - start
                    if result.status != "page_not_found":
                        result.status = status
                    break
        except (websocket.WebSocketTimeoutException, TimeoutError):
            result.status = "timeout"
            result.latency_s = time.perf_counter() - start
        except (websocket.WebSocketException, OSError):
            result.status = "disconnected"
            result.latency_s = time.perf_counter() - start
        if fetch_media and not result.failed:
            for url in dict.fromkeys(result.media_urls):
                result.bytes_received += self.fetch(url)
        return result

    def upload(self, widget_id: str, name: str, data: bytes, query_string: str = "",
               page_name: str = "") -> RerunResult:
        """Pick a file in an st.file_uploader as the browser does: PUT it (with the XSRF token from the
        session's cookie), then rerun with the widget holding it. An upload the server refuses is a
        RerunResult with status "upload <code>"."""
        if self.session_id is None:
            raise RuntimeError("rerun() the page first: an upload names the session")
        file_id = uuid.uuid4().hex
        url = f"{self.base_url}/_stcore/upload_file/{self.session_id}/{file_id}"
        cookies = dict(c.strip().split("=", 1) for c in (self.cookie or "").split(";") if "=" in c)
        body, kind = encode_multipart_formdata({"file": (name, data, "application/octet-stream")})
        headers = {"X-Xsrftoken": cookies.get("_streamlit_xsrf", ""), "Content-Type": kind}
        if self.cookie:
            headers["Cookie"] = self.cookie
        request = urllib.request.Request(url, data=body, method="PUT", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout):
                pass
        except urllib.error.HTTPError as exc:
            return RerunResult(latency_s=0.0, status=f"upload {exc.code}")
        info = UploadedFileInfo(name=name, size=len(data), file_id=file_id,
                                file_urls=FileURLs(file_id=file_id, upload_url=url, delete_url=url))
        state = WidgetState(id=widget_id, file_uploader_state_value=FileUploaderState(uploaded_file_info=[info]))
        return self.rerun(query_string, page_name, widgets=[state])

    def clear_cache(self) -> None:
        """Send the BackMsg the toolbar's "Clear cache" sends (any client can, whatever the toolbar shows)."""
        msg = BackMsg()
        msg.clear_cache = True
        self.ws.send_binary(msg.SerializeToString())

    def fetch(self, url: str) -> int:
        """GET a media URL the way the browser's <img> would; returns its size in bytes."""
        full = url if url.startswith("http") else f"{self.base_url}/{url.lstrip('/')}"
        request = urllib.request.Request(full, headers={"Cookie": self.cookie} if self.cookie else {})
        with urllib.request.urlopen(request, timeout=self.timeout) as resp:
            return len(resp.read())

    def close(self) -> None:
        try:
            self.ws.close()
        except (websocket.WebSocketException, OSError):
            pass


def sticky_cookie(base_url: str, timeout: float = 30.0) -> str | None:
    """Load the page as a browser does first and return the cookies it set ("name=value; ..."), or None.

    Behind the proxy of alexnet_viz.serving.serve this is the replica cookie that keeps the websocket and
    uploads of one browser on one process; a direct Streamlit server sets only its XSRF cookie.
    """
    with urllib.request.urlopen(f"{base_url.rstrip('/')}/", timeout=timeout) as resp:
        cookies = [c.split(";", 1)[0] for c in resp.headers.get_all("Set-Cookie") or []]
    return "; ".join(cookies) or None


def _inspect_delta(fwd: ForwardMsg, result: RerunResult) -> None:
    delta = fwd.delta
    if delta.WhichOneof("type") != "new_element":
        return
    element = delta.new_element
    kind = element.WhichOneof("type")
    if kind == "exception" and not element.exception.is_warning:
        result.exceptions.append(f"{element.exception.type or 'Exception'}: {element.exception.message}")
    elif kind == "alert" and element.alert.format == Alert.ERROR:
        result.error_alerts.append(element.alert.body[:200])
    elif kind == "bidi_component" and element.bidi_component.json:  # ui/grids.py's tile grids
        src = json.loads(element.bidi_component.json).get("src", "")
        if isinstance(src, str) and src.startswith("/media/"):
            result.media_urls.append(src)
    elif kind == "file_uploader":
        result.uploaders.append(element.file_uploader.id)
    elif kind == "imgs":
        result.media_urls.extend(img.url for img in element.imgs.imgs if img.url.startswith("/media/"))
        result.captions.extend(img.caption for img in element.imgs.imgs if img.caption)
