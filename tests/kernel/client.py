"""Drives `coercive kernel` through jupyter_client, as a notebook would; run by tests/kernel.rs.

The kernelspec `coercive` must be on JUPYTER_PATH. Prints one line per check and exits 1 at
the first that fails, saying what came back.
"""
import sys
import time

from jupyter_client.manager import start_new_kernel

TIMEOUT = 60


def run(kc, code, timeout=TIMEOUT):
    """Executes `code`; the reply and the iopub messages of that request, in order."""
    msg_id = kc.execute(code)
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            break
        if kind not in ("status", "execute_input"):
            outputs.append(msg)
    reply = kc.get_shell_msg(timeout=timeout)
    assert reply["parent_header"]["msg_id"] == msg_id, reply
    return reply["content"], outputs


def of(outputs, kind):
    return [m["content"] for m in outputs if m["msg_type"] == kind]


def check(name, ok, got):
    if not ok:
        print(f"FAIL {name}: {got!r}")
        sys.exit(1)
    print(f"ok {name}")


def main():
    km, kc = start_new_kernel(kernel_name="coercive", startup_timeout=TIMEOUT)
    try:
        info = kc.kernel_info(reply=True)["content"]
        check("kernel_info", info["language_info"]["name"] == "rhai", info)

        reply, _ = run(kc, "let x = 20; fn twice(v) { v * 2 }")
        check("a cell defines a variable and a function", reply["status"] == "ok", reply)
        reply, out = run(kc, 'print("x is " + x); twice(x) + 2')
        streams = of(out, "stream")
        check("print goes to stdout",
              [s["name"] for s in streams] == ["stdout"] and streams[0]["text"] == "x is 20\n", out)
        results = of(out, "execute_result")
        check("state across cells and the last value as execute_result",
              len(results) == 1 and results[0]["data"]["text/plain"] == "42", out)

        reply, out = run(kc, 'help("grains::voronoi")')
        text = "".join(s["text"] for s in of(out, "stream") if s["name"] == "stdout")
        check("help prints into the notebook", "grains::voronoi" in text and "seed" in text, out)

        reply, out = run(kc, "let a = 1;\nlet b = a + nope;")
        errors = of(out, "error")
        check("an error has the cell line and column",
              reply["status"] == "error" and len(errors) == 1
              and "cell:2:" in errors[0]["evalue"] and "nope" in errors[0]["evalue"], out)

        reply, out = run(kc, 'plot::lines("", [#{ x: [0.0, 1.0, 2.0], y: [1.0, 0.0, 1.0], label: "y" }], #{})')
        figures = [d for d in of(out, "display_data") if "image/png" in d["data"]]
        check("a plot shows an inline image/png", reply["status"] == "ok" and len(figures) == 1
              and figures[0]["data"]["image/png"].startswith("iVBORw0KGgo"), out)

        reply, out = run(kc, "grains::voronoi(#{ n: 16, grains: 4, seed: 1 })")
        results = of(out, "execute_result")
        check("a structure is shown as image/png", len(results) == 1
              and "image/png" in results[0]["data"], out)

        kc.complete("grains::vor", 11)
        reply = kc.get_shell_msg(timeout=TIMEOUT)["content"]
        check("completion", "grains::voronoi" in reply["matches"] and reply["cursor_start"] == 0,
              reply)
        kc.complete("twi", 3)
        reply = kc.get_shell_msg(timeout=TIMEOUT)["content"]
        check("completion knows session functions", reply["matches"] == ["twice"], reply)

        kc.inspect("grains::voronoi(", 10)
        reply = kc.get_shell_msg(timeout=TIMEOUT)["content"]
        check("inspection gives the doc comment",
              reply["found"] and "grains::voronoi" in reply["data"]["text/plain"], reply)

        start = time.time()
        msg_id = kc.execute("let n = 0; loop { n += 1; }")
        time.sleep(1.0)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        check("interrupt stops a long cell",
              reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "error"
              and "interrupt" in reply["content"]["evalue"].lower()
              and time.time() - start < 30, reply["content"])
        msg_id = kc.execute("let m = 0; loop { m += 1; }")
        time.sleep(1.0)
        kc.control_channel.send(kc.session.msg("interrupt_request", {}))
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        check("an interrupt_request on the control channel stops a long cell",
              reply["parent_header"]["msg_id"] == msg_id
              and reply["content"]["status"] == "error", reply["content"])
        reply, out = run(kc, "x + 1")
        check("the kernel lives on after an interrupt",
              of(out, "execute_result")[0]["data"]["text/plain"] == "21", out)

        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=TIMEOUT)
        reply, out = run(kc, "x")
        check("restart starts afresh", reply["status"] == "error"
              and "x" in reply["evalue"], reply)
        reply, out = run(kc, "1 + 1")
        check("the restarted kernel runs cells",
              of(out, "execute_result")[0]["data"]["text/plain"] == "2", out)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    check("shutdown", not km.is_alive(), "still alive")


if __name__ == "__main__":
    main()
