#!/usr/bin/env python3
"""Browser tests of both web interfaces (issue 17), against real `ember serve` and `ember device run` processes on
loopback, in headless Chromium driven by Selenium. Screenshots at 1280x800 and 390x844 go to docs/screenshots/.

Run by scripts/browser-test (which installs Chromium, its driver and Selenium when missing). Any failure, including a
browser that cannot start, exits non-zero.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMBER = os.environ.get("EMBER_BINARY", os.path.join(ROOT, ".build", "debug", "ember"))
SHOTS = os.path.join(ROOT, "docs", "screenshots")
TOKEN = "browser-test-admin-token-0123456789"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except Exception:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


class Run:
    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="ember-browser-")
        self.processes = []
        self.registry_port = free_port()
        self.device_port = free_port()
        self.registry = f"http://127.0.0.1:{self.registry_port}"
        self.device = f"http://127.0.0.1:{self.device_port}"
        self.board = os.path.join(self.folder, "board")

    def start(self, args, log, env=None):
        handle = open(os.path.join(self.folder, log), "w")
        process = subprocess.Popen([EMBER] + args, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, cwd=self.folder)
        self.processes.append(process)
        return process

    def up(self):
        self.start(["serve", "--host", "127.0.0.1", "--port", str(self.registry_port), "--database", "sqlite:" + os.path.join(self.folder, "registry.sqlite")],
                   "serve.log", {"EMBER_BOOTSTRAP_TOKEN": TOKEN})
        wait_for(self.registry + "/health")
        subprocess.run([EMBER, "device", "init", "--product", "FFC0806-2305", "--dir", self.board, "--cloud", self.registry], check=True, capture_output=True)
        self.start(["device", "run", "--dir", self.board, "--host", "127.0.0.1", "--port", str(self.device_port)], "device.log")
        wait_for(self.device + "/login")

    def visual_token(self):
        with open(os.path.join(self.board, "display.txt")) as f:
            match = re.search(r"Token: ([A-Z0-9]{6})", f.read())
        assert match, "the display shows no visual token"
        return match.group(1)

    def down(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    def logs(self):
        for name in ("serve.log", "device.log"):
            path = os.path.join(self.folder, name)
            if os.path.exists(path):
                print(f"--- {name} (last 40 lines)")
                print("".join(open(path).readlines()[-40:]))


def call(method, url, headers=None, body=None):
    """One JSON request; returns (status, decoded body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={**({"Content-Type": "application/json"} if data else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode() or "null")


def browser():
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,800"):
        options.add_argument(argument)
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        options.binary_location = binary
    driver_path = shutil.which("chromedriver")
    service = webdriver.ChromeService(executable_path=driver_path) if driver_path else webdriver.ChromeService()
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    return driver


def shoot(driver, name):
    os.makedirs(SHOTS, exist_ok=True)
    for label, (width, height) in SIZES.items():
        driver.set_window_size(width, height)
        time.sleep(0.3)
        driver.save_screenshot(os.path.join(SHOTS, f"{name}-{label}.png"))
    driver.set_window_size(*SIZES["desktop"])


def visible_text(driver, by, value, seconds=15):
    return WebDriverWait(driver, seconds).until(EC.visibility_of_element_located((by, value))).text


def wait_until(driver, condition, seconds=15, message=""):
    WebDriverWait(driver, seconds, poll_frequency=0.2).until(lambda d: condition(d), message)


def main():
    if not os.path.exists(EMBER):
        sys.exit(f"no ember binary at {EMBER}: run swift build first")
    run = Run()
    driver = None
    checks = []
    try:
        run.up()
        driver = browser()
        wait = WebDriverWait(driver, 15)

        # Console: a wrong token is refused with an explanation, the right one signs in.
        driver.get(run.registry + "/console")
        assert driver.current_url.endswith("/console/login"), driver.current_url
        driver.find_element(By.ID, "token").send_keys("ember_not-a-real-token")
        driver.find_element(By.ID, "sign-in").click()
        assert "not valid" in visible_text(driver, By.CSS_SELECTOR, ".notice.error")
        checks.append("console: wrong token shows an error")
        shoot(driver, "console-sign-in")
        driver.find_element(By.ID, "token").send_keys(TOKEN)
        driver.find_element(By.ID, "sign-in").click()
        wait.until(EC.presence_of_element_located((By.ID, "registered-count")))
        checks.append("console: signed in")

        # Mint a registration key.
        driver.find_element(By.LINK_TEXT, "Registration keys").click()
        driver.find_element(By.ID, "mint").click()
        key = visible_text(driver, By.ID, "minted-key").strip()
        assert re.fullmatch(r"[A-Z0-9]{6}", key), key
        wait_until(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[data-expires]").text.startswith("in "), message="no expiry countdown")
        checks.append("console: minted key " + key[:2] + "****")
        shoot(driver, "console-key-minted")

        # HW-Reg: a wrong visual token is refused, the displayed one signs in.
        driver.get(run.device + "/")
        wait_until(driver, lambda d: d.current_url.startswith(run.device + "/login"), message="HW-Reg did not send us to sign-in")
        driver.find_element(By.ID, "visual-token").send_keys("AAAAAA" if run.visual_token() != "AAAAAA" else "CCCCCC")
        driver.find_element(By.ID, "sign-in").click()
        assert "not the token" in visible_text(driver, By.CSS_SELECTOR, "#flash .notice.error")
        checks.append("hw-reg: wrong visual token shows an error")
        shoot(driver, "hwreg-sign-in")
        field = driver.find_element(By.ID, "visual-token")
        field.clear()
        field.send_keys(run.visual_token())
        driver.find_element(By.ID, "sign-in").click()
        wait_until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#peripherals tr .badge"), message="hardware page did not load")
        checks.append("hw-reg: signed in; hardware page shows peripherals")
        shoot(driver, "hwreg-hardware")

        # Provision the identity: UUID generated in the page, explicit confirmation.
        driver.find_element(By.ID, "nav-identity").click()
        uuid = WebDriverWait(driver, 15).until(lambda d: d.find_element(By.ID, "uuid").get_attribute("value"))
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", uuid), uuid
        driver.find_element(By.ID, "provision").click()  # unconfirmed: the browser refuses the form
        time.sleep(0.5)
        assert not driver.find_element(By.ID, "identity-burned").is_displayed(), "burned without the confirmation"
        driver.find_element(By.ID, "confirm-burn").click()
        driver.find_element(By.ID, "provision").click()
        assert "Identity burned" in visible_text(driver, By.CSS_SELECTOR, "#flash .notice.ok")
        assert driver.find_element(By.ID, "burned-uuid").text == uuid
        checks.append("hw-reg: identity burned")

        # Provisioned but not registered: the warning indicator is on.
        def warned(d):
            return "warn" in d.find_element(By.ID, "nav-registration").get_attribute("class")
        driver.get(run.device + "/registration")
        wait_until(driver, warned, message="no warning indicator while provisioned but not registered")
        checks.append("hw-reg: warning indicator before registration")
        shoot(driver, "hwreg-registration-warning")
        driver.find_element(By.ID, "registration-key").send_keys(key)
        cloud = driver.find_element(By.ID, "cloud-url")
        cloud.clear()
        cloud.send_keys(run.registry)
        driver.find_element(By.ID, "register").click()
        assert "Registered" in visible_text(driver, By.CSS_SELECTOR, "#flash .notice.ok", seconds=30)
        wait_until(driver, lambda d: not warned(d), seconds=30, message="warning indicator still on after registration")
        driver.get(run.device + "/registration")
        wait_until(driver, lambda d: "registered with" in d.find_element(By.ID, "registration-status").text, message="status not shown")
        assert not warned(driver)
        checks.append("hw-reg: registered; warning indicator gone")
        shoot(driver, "hwreg-registration")

        # The device in the console's list and detail.
        driver.get(run.registry + "/console/devices")
        driver.find_element(By.ID, "search-q").send_keys(uuid[:8])
        driver.find_element(By.ID, "search-q").submit()
        driver.find_element(By.LINK_TEXT, uuid).click()
        assert uuid in visible_text(driver, By.TAG_NAME, "h1")
        assert "FFC0806-2305" in driver.page_source
        checks.append("console: device in list and detail")
        shoot(driver, "console-device")

        # Backup: a local /backup.json differs from the (absent) cloud copy until pushed.
        driver.get(run.device + "/backups")
        text = driver.find_element(By.ID, "backup-text")
        wait_until(driver, lambda d: d.find_element(By.ID, "cloud-state").text != "Loading…", message="backup state not loaded")
        text.clear()
        text.send_keys(json.dumps({"formatName": "dexie", "formatVersion": 1, "data": {"databaseName": "FireFly-Controller"}}))
        driver.find_element(By.ID, "save-backup").click()
        wait_until(driver, lambda d: d.find_element(By.ID, "deployment").is_displayed(), message="no Deployment Required after a local change")
        checks.append("hw-reg: Deployment Required while the cloud copy differs")
        shoot(driver, "hwreg-backup-deployment-required")
        driver.find_element(By.ID, "push-backup").click()
        wait_until(driver, lambda d: not d.find_element(By.ID, "deployment").is_displayed(), seconds=30, message="Deployment Required did not clear")
        assert driver.find_element(By.ID, "local-etag").text == driver.find_element(By.ID, "cloud-etag").text
        checks.append("hw-reg: pushed; Deployment Required cleared")
        shoot(driver, "hwreg-backup")

        # The console's overview now counts the device; then sign out of both.
        driver.get(run.registry + "/console")
        assert driver.find_element(By.ID, "registered-count").text == "1"
        shoot(driver, "console-overview")
        driver.find_element(By.XPATH, "//button[text()='Sign out']").click()
        wait_until(driver, lambda d: d.current_url.endswith("/console/login"), message="console sign-out did not return to sign-in")
        driver.get(run.registry + "/console/devices")
        assert driver.current_url.endswith("/console/login"), "a signed-out browser still sees the console"
        checks.append("console: signed out")
        driver.get(run.device + "/")
        wait_until(driver, lambda d: d.find_elements(By.ID, "sign-out"), message="HW-Reg page did not load")
        driver.find_element(By.ID, "sign-out").click()
        wait_until(driver, lambda d: "/login" in d.current_url, message="HW-Reg sign-out did not return to sign-in")
        driver.get(run.device + "/identity")
        wait_until(driver, lambda d: "/login" in d.current_url, message="a signed-out browser still sees HW-Reg pages")
        checks.append("hw-reg: signed out")

        # Field provisioning: the board is shipped to a place with Wi-Fi. The user signs in to the console with a
        # user token and mints a claim token; on the board's Wi-Fi setup page a wrong password fails, the right one
        # brings the board up bound to the user's account.
        status, account = call("POST", run.registry + "/accounts", {"Authorization": "Bearer " + TOKEN}, {"name": "alice"})
        assert status == 201, account
        made = subprocess.run([EMBER, "admin", "token", "create", "--name", "alice", "--role", "user", "--account", account["id"],
                               "--database", "sqlite:" + os.path.join(run.folder, "registry.sqlite")], capture_output=True, text=True, check=True)
        user_token = made.stdout.strip()
        subprocess.run([EMBER, "device", "fault", "--dir", run.board, "--wifi-network", "Home=correct-horse"], check=True, capture_output=True)
        assert call("POST", run.device + "/auth", {"visual-token": run.visual_token()})[0] == 204
        assert call("POST", run.device + "/api/mcu/reboot", {"visual-token": run.visual_token()})[0] == 204
        deadline = time.time() + 15
        while call("GET", run.device + "/api/provisioning")[1].get("state") != "provisioning":
            assert time.time() < deadline, "the shipped board did not come up in provisioning"
            time.sleep(0.2)
        driver.get(run.registry + "/console/login")
        driver.find_element(By.ID, "token").send_keys(user_token)
        driver.find_element(By.ID, "sign-in").click()
        wait.until(EC.element_to_be_clickable((By.LINK_TEXT, "Claim tokens"))).click()
        wait.until(EC.element_to_be_clickable((By.ID, "mint-claim-token"))).click()
        claim = visible_text(driver, By.ID, "claim-token").strip()
        assert re.fullmatch(r"[A-Z0-9]{8}", claim), claim
        checks.append("console: a user mints a claim token")
        shoot(driver, "console-claim-token")
        driver.get(run.device + "/login")
        driver.find_element(By.ID, "visual-token").send_keys(run.visual_token())
        driver.find_element(By.ID, "sign-in").click()
        wait_until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#peripherals tr .badge"), message="hardware page did not load")
        driver.find_element(By.ID, "nav-provisioning").click()
        wait_until(driver, lambda d: "provisioning" in d.find_element(By.ID, "provisioning-status").text, message="no provisioning state")
        assert "FireFly-" in driver.find_element(By.ID, "provisioning-status").text
        shoot(driver, "hwreg-provisioning")
        driver.find_element(By.ID, "wifi-ssid").send_keys("Home")
        driver.find_element(By.ID, "wifi-password").send_keys("wrong-horse")
        driver.find_element(By.ID, "claim-token").send_keys(claim)
        driver.find_element(By.ID, "provision-wifi").click()
        wait_until(driver, lambda d: "WiFi authentication failed" in d.find_element(By.ID, "provisioning-status").text, message="the wrong password was not reported")
        checks.append("hw-reg: a wrong Wi-Fi password fails with its reason")
        driver.find_element(By.ID, "wifi-password").send_keys("correct-horse")
        driver.find_element(By.ID, "provision-wifi").click()
        wait_until(driver, lambda d: "operational" in d.find_element(By.ID, "provisioning-status").text, seconds=30, message="the board did not become operational")
        wait_until(driver, lambda d: "Device claimed" in d.find_element(By.ID, "provisioning-steps").text, message="the steps are not listed")
        checks.append("hw-reg: provisioned and claimed; the steps listed")
        shoot(driver, "hwreg-provisioned")
        driver.get(run.registry + "/console/devices")
        assert uuid in driver.page_source, "the claimed device is in the user's console"
        checks.append("console: the user sees the claimed device")
    except Exception:
        for check in checks:
            print("ok  ", check)
        print("FAILED after the checks above", file=sys.stderr)
        if driver is not None:
            os.makedirs(os.path.join(run.folder, "failure"), exist_ok=True)
            driver.save_screenshot(os.path.join(run.folder, "failure.png"))
            print("page at failure:", driver.current_url, file=sys.stderr)
            print(driver.page_source[:3000], file=sys.stderr)
            for entry in driver.get_log("browser") if hasattr(driver, "get_log") else []:
                print("browser:", entry, file=sys.stderr)
        run.logs()
        raise
    finally:
        if driver is not None:
            driver.quit()
        run.down()
    for check in checks:
        print("ok  ", check)
    print(f"browser tests passed: {len(checks)} checks; screenshots in docs/screenshots/")
    shutil.rmtree(run.folder, ignore_errors=True)


if __name__ == "__main__":
    main()
