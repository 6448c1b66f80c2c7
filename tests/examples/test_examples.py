"""Every example in docs/examples runs and does what its header says (scripted server on loopback)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.examples.conftest import EXAMPLES, PYTHON, run_example
from tests.support.ports import free_port
from tests.support.scripted_server import Reply, ScriptedServer

ANSWER = "Hello from the scripted server."


def test_python_chat_client(server: ScriptedServer) -> None:
    done = run_example([PYTHON, "python/chat_client.py", "Why", "is", "the", "sky", "blue?"], server.base_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ANSWER
    body = server.chat_requests()[0].body
    assert body is not None and body["model"] == "ai/smollm2" and body["max_tokens"] == 100
    assert body["messages"] == [{"role": "user", "content": "Why is the sky blue?"}]
    assert server.requests[0].headers["authorization"] == "Bearer dummy-key"


def test_python_streaming_chat(server: ScriptedServer) -> None:
    server.script(Reply(text="one two three four five"))
    done = run_example([PYTHON, "python/streaming_chat.py"], server.base_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "one two three four five\n"
    assert server.chat_requests()[0].json["stream"] is True


def test_python_batch_processing_survives_a_failure(server: ScriptedServer) -> None:
    server.script(
        Reply(), Reply(status=400, error_message="boom"), Reply()
    )  # 5xx would be retried by the SDK
    done = run_example([PYTHON, "python/batch_processing.py"], server.base_url)
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == 3
    assert sum("error" in r for r in results) == 1 and sum(r.get("answer") == ANSWER for r in results) == 2


def test_python_example_explains_a_dead_server() -> None:
    done = run_example([PYTHON, "python/chat_client.py"], f"http://127.0.0.1:{free_port()}/v1")
    assert done.returncode == 1 and "trayai status" in done.stderr


def test_javascript_chat_and_streaming(server: ScriptedServer, node_ready: Path) -> None:
    done = run_example(["node", "chat-client.js", "Hi"], server.base_url, cwd=node_ready)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ANSWER
    server.script(Reply(text="a b c"))
    done = run_example(["node", "streaming-chat.js"], server.base_url, cwd=node_ready)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "a b c\n"
    bodies = [r.json for r in server.chat_requests()]
    assert bodies[0]["messages"] == [{"role": "user", "content": "Hi"}]
    assert bodies[1]["stream"] is True


def test_typescript_chat(server: ScriptedServer, node_ready: Path) -> None:
    done = run_example(["node", "dist/chat-client.js", "Hi"], server.base_url, cwd=node_ready)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ANSWER


def test_javascript_explains_a_dead_server(node_ready: Path) -> None:
    done = run_example(["node", "chat-client.js"], f"http://127.0.0.1:{free_port()}/v1", cwd=node_ready)
    assert done.returncode == 1 and "trayai status" in done.stderr


def test_curl_script(server: ScriptedServer) -> None:
    server.script(Reply(), Reply(text="1 2 3"))
    done = run_example(["bash", "rest/rest-api-curl.sh"], server.base_url)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert '"id": "ai/smollm2"' in out or '"id":"ai/smollm2"' in out
    assert ANSWER in out
    assert "data: [DONE]" in out and '"content":"3"' in out
    assert [r.path for r in server.requests] == ["/v1/models", "/v1/chat/completions", "/v1/chat/completions"]


def test_postman_collection_is_valid_and_matches_the_api() -> None:
    collection = json.loads((EXAMPLES / "rest" / "postman-collection.json").read_text())
    assert collection["info"]["schema"].endswith("/collection/v2.1.0/collection.json")
    variables = {v["key"]: v["value"] for v in collection["variable"]}
    assert variables == {"baseUrl": "http://localhost:8080/v1", "model": "ai/smollm2", "apiKey": "dummy-key"}
    requests = {item["name"]: item["request"] for item in collection["item"]}
    assert requests["List models"]["url"]["raw"] == "{{baseUrl}}/models"
    for name in ("Chat completion", "Chat completion (streaming)"):
        request = requests[name]
        assert request["method"] == "POST" and request["url"]["raw"] == "{{baseUrl}}/chat/completions"
        body = json.loads(request["body"]["raw"])
        assert body["model"] == "{{model}}" and body["messages"][0]["role"] == "user"
    assert json.loads(requests["Chat completion (streaming)"]["body"]["raw"])["stream"] is True
