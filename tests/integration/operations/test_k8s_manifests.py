"""The Kubernetes manifests: current with the code, valid offline, and the validator can say no."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from cli.manifests import render
from cli.registry import SERVICES
from services.runtime.broker import platform_queues, policies_for, subscriptions_of
from services.runtime.settings import Settings
from tests.helpers import needs_tools

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
VALIDATE = [sys.executable, str(K8S / "validation" / "validate_k8s.py")]


def _base_objects() -> list[dict]:
    """Every object of the committed base, from all its files."""
    return [
        o
        for f in (K8S / "base").glob("*.yaml")
        if f.name != "kustomization.yaml"
        for o in yaml.safe_load_all(f.read_text())
        if o
    ]


def validate(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VALIDATE, *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_committed_base_matches_what_the_code_generates(tmp_path):
    generated = tmp_path / "base"
    shutil.copytree(K8S / "base", generated)
    for path in render(generated):
        assert path.read_text() == (K8S / "base" / path.name).read_text(), (
            f"{path.name} is stale: run `hocba deploy manifests` and commit"
        )
    assert (generated / "kustomization.yaml").read_text() == (K8S / "base" / "kustomization.yaml").read_text()


def test_base_manifests_are_valid():
    result = validate(str(K8S / "base"))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_tools("kubectl", install="kubectl renders the kustomize overlays")
@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_overlay_renders_and_is_valid(overlay):
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True, timeout=120
    )
    assert rendered.returncode == 0, rendered.stderr
    result = validate("-", stdin=rendered.stdout)
    assert result.returncode == 0, result.stdout
    objects = list(yaml.safe_load_all(rendered.stdout))
    assert {o["metadata"].get("namespace") for o in objects} == {f"hocba{'-dev' if overlay == 'dev' else ''}"}


def test_a_broken_manifest_fails_the_validator():
    result = validate(str(Path(__file__).parent / "fixtures" / "broken.yaml"))
    assert result.returncode == 1
    assert "FAIL Deployment/broken" in result.stdout and "FAIL ScaledObject/broken" in result.stdout


def test_queues_and_policies_in_the_manifests_are_the_ones_the_code_declares():
    objects = _base_objects()
    queues = {o["spec"]["name"] for o in objects if o["kind"] == "Queue"}
    policies = {
        (o["spec"]["name"], o["spec"]["pattern"], tuple(sorted(o["spec"]["definition"].items())))
        for o in objects
        if o["kind"] == "Policy"
    }
    subscriptions = [s for e in SERVICES.values() for s in subscriptions_of(e.load())]
    assert queues == set(platform_queues(subscriptions))
    # Quorum queues, replicated on the cluster's nodes: a classic queue's messages die with its one node.
    assert {
        o["spec"]["name"]: o["spec"].get("type") for o in objects if o["kind"] == "Queue"
    } == dict.fromkeys(queues, "quorum")
    expected = {
        (p.name, p.pattern, tuple(sorted(p.definition.items())))
        for p in policies_for(subscriptions, Settings())
    }
    assert policies == expected
    deployments = {o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"}
    assert deployments == {n for e in SERVICES for n in (e, f"{e}-relay")}
    for o in objects:
        if o["kind"] == "Deployment":
            pod = o["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True
            assert all(c["securityContext"]["readOnlyRootFilesystem"] for c in pod["containers"])
            assert all("limits" in c["resources"] for c in pod["containers"])


def _pod_specs(objects: list[dict]) -> dict[str, dict]:
    """Name → pod spec of every workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod)."""
    pods = {}
    for o in objects:
        if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
            pods[o["metadata"]["name"]] = o["spec"]["template"]["spec"]
        elif o["kind"] == "Pod":
            pods[o["metadata"]["name"]] = o["spec"]
        elif o["kind"] == "CronJob":
            pods[o["metadata"]["name"]] = o["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return pods


def _db_secret(container: dict) -> set[str]:
    return {
        e["valueFrom"]["secretKeyRef"]["name"]
        for e in container["env"]
        if e["name"] in ("DB_USER", "DB_PASSWORD")
    }


def test_the_audit_pods_log_in_as_the_writer_and_the_migration_job_as_the_migration_role():
    objects = _base_objects()
    (cluster,) = [o for o in objects if o["kind"] == "Cluster"]
    roles = {r["name"]: r for r in cluster["spec"]["managed"]["roles"]}
    writer = roles[Settings().audit_db_role]
    # A LOGIN role of its own, member of nothing and owner of nothing (the initdb owner owns the databases).
    assert writer["login"] is True and not writer.get("inRoles")
    assert not any(writer.get(power) for power in ("superuser", "createdb", "createrole", "bypassrls"))
    assert cluster["spec"]["bootstrap"]["initdb"]["owner"] != writer["name"]
    assert not [r for r in roles.values() if writer["name"] in r.get("inRoles", [])]
    pods = _pod_specs(objects)
    for name in ("audit", "audit-relay"):
        for container in pods[name]["containers"]:
            assert _db_secret(container) == {writer["passwordSecret"]["name"]}, name
    # Migrations and prune (which deletes from the outbox and inbox) run as the migration role, which owns every
    # service's database; no service pod holds its secret.
    migrator = roles["hocba_migrator"]
    assert migrator["login"] is True and writer["name"] != migrator["name"]
    databases = {o["spec"]["name"]: o["spec"]["owner"] for o in objects if o["kind"] == "Database"}
    assert databases == {f"hocba_{s}": migrator["name"] for s in SERVICES}
    for name in ("hocba-migrate", "hocba-prune"):
        (container,) = pods[name]["containers"]
        assert _db_secret(container) == {migrator["passwordSecret"]["name"]}, name
        assert {f"HOCBA_DB_URL_{s.upper()}" for s in SERVICES} <= {e["name"] for e in container["env"]}, name


def test_broker_users_in_the_manifests_are_exactly_the_permission_table():
    """One User per principal of runtime/broker_access.py's table (each service, relay and vendor), its
    Permission's three patterns and its TopicPermissions equal to the table's row; nothing else on the broker."""
    from services.runtime.broker_access import table_for

    objects = [o for o in yaml.safe_load_all((K8S / "base" / "rabbitmq-users.yaml").read_text()) if o]
    settings = Settings()
    table = table_for([e.load() for e in SERVICES.values()], SERVICES, settings)
    everywhere = _base_objects()
    users = {o["metadata"]["name"] for o in everywhere if o["kind"] == "User"}
    assert users == {f"{principal}-rabbitmq" for principal in table}
    assert {f"{s}-relay" for s in SERVICES} | set(SERVICES) | {
        f"vendor-{v}" for v in settings.broker_vendors
    } == set(table)
    permissions = {
        o["spec"]["userReference"]["name"]: o["spec"]["permissions"]
        for o in everywhere
        if o["kind"] == "Permission"
    }
    assert permissions == {
        f"{p}-rabbitmq": {"configure": g.configure, "write": g.write, "read": g.read}
        for p, g in table.items()
    }
    topics = sorted(
        (o["spec"]["userReference"]["name"], tuple(sorted(o["spec"]["permissions"].items())))
        for o in everywhere
        if o["kind"] == "TopicPermission"
    )
    assert topics == sorted(
        (f"{p}-rabbitmq", tuple(sorted({"exchange": t.exchange, "write": t.write, "read": t.read}.items())))
        for p, g in table.items()
        for t in g.topics
    )
    assert all(o["spec"]["vhost"] == "/" for o in objects if o["kind"] in ("Permission", "TopicPermission"))


def test_each_pod_logs_in_to_the_broker_as_its_own_user():
    """The service's container reads its own user's credentials, the relay's container its relay user's."""
    for service in SERVICES:
        docs = [o for o in yaml.safe_load_all((K8S / "base" / f"{service}.yaml").read_text()) if o]
        deployments = {o["metadata"]["name"]: o for o in docs if o["kind"] == "Deployment"}
        for name in (service, f"{service}-relay"):
            (container,) = deployments[name]["spec"]["template"]["spec"]["containers"]
            refs = {
                e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
                for e in container["env"]
                if e["name"] in ("AMQP_USER", "AMQP_PASSWORD")
            }
            assert refs == dict.fromkeys(("AMQP_USER", "AMQP_PASSWORD"), f"{name}-rabbitmq-user-credentials")


def _pg(service: str) -> set[tuple[str, str]]:
    return {(f"hocba-pg-{service}", "username"), (f"hocba-pg-{service}", "password")}


def _broker(principal: str) -> set[tuple[str, str]]:
    return {
        (f"{principal}-rabbitmq-user-credentials", "username"),
        (f"{principal}-rabbitmq-user-credentials", "password"),
    }


DATA_KEY = {("hocba-secrets", "data-key")}
HSM_PIN = {("hocba-pkcs11-pin", "pin")}
MIGRATOR = {("hocba-pg-migrator", "username"), ("hocba-pg-migrator", "password")}

# Which container holds which secret, decided one by one (issue 28, "secrets by need"). A new secret reference in a
# generated or static manifest fails the test below until someone adds it here, on purpose: the data key only where
# personal data is sealed, read or hashed (services/runtime/data_key.py), never signing or a relay; the HSM PIN only
# in the signing service's container; a service's OAuth client secret only where it calls another service.
SECRETS_BY_CONTAINER: dict[str, set[tuple[str, str]]] = {
    "gradebook/gradebook": _pg("gradebook") | _broker("gradebook") | DATA_KEY,
    "gradebook-relay/relay": _pg("gradebook") | _broker("gradebook-relay"),
    "transcript/transcript": _pg("transcript") | _broker("transcript") | DATA_KEY,
    "transcript-relay/relay": _pg("transcript") | _broker("transcript-relay"),
    "signing/signing": _pg("signing")
    | _broker("signing")
    | HSM_PIN
    | {("hocba-oauth-signing", "client-secret")},
    "signing-relay/relay": _pg("signing") | _broker("signing-relay"),
    "sync/sync": _pg("sync") | _broker("sync") | DATA_KEY | {("hocba-oauth-sync", "client-secret")},
    "sync-relay/relay": _pg("sync") | _broker("sync-relay"),
    "audit/audit": _pg("audit") | _broker("audit") | DATA_KEY,
    "audit-relay/relay": _pg("audit") | _broker("audit-relay"),
    "hocba-migrate/migrate": MIGRATOR,
    "hocba-prune/prune": MIGRATOR,
}


def _secrets_of(spec: dict, container: dict) -> set[tuple[str, str]]:
    """Every secret (and key; ``*`` for all of it) a container can read: env, envFrom, mounted volumes."""
    refs = {
        (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for e in container.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    refs |= {(e["secretRef"]["name"], "*") for e in container.get("envFrom", []) if "secretRef" in e}
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        if "secret" in volume:
            refs.add((volume["secret"]["secretName"], "*"))
        for source in volume.get("projected", {}).get("sources", []):
            if "secret" in source:
                refs.add((source["secret"]["name"], "*"))
    return refs


def test_each_container_holds_exactly_the_secrets_the_table_names():
    objects = _base_objects()
    held = {}
    for name, spec in _pod_specs(objects).items():
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            held[f"{name}/{container['name']}"] = _secrets_of(spec, container)
    assert held == SECRETS_BY_CONTAINER
    # What the table says in words: who holds the data key and the PIN.
    assert {c for c, s in held.items() if s >= DATA_KEY} == {
        f"{s}/{s}" for s in ("gradebook", "transcript", "sync", "audit")
    }
    assert {c for c, s in held.items() if s >= HSM_PIN} == {"signing/signing"}


def _network_policies() -> dict[str, dict]:
    return {o["metadata"]["name"]: o["spec"] for o in _base_objects() if o["kind"] == "NetworkPolicy"}


def _peers(rules: list[dict]) -> set[str]:
    """Each peer of some rules as one word: app:<name>, ns:<namespace>, cidr:<block>, or what it is otherwise."""
    words = set()
    for rule in rules:
        assert rule.get("from", rule.get("to")), f"a rule open to every peer: {rule}"
        for peer in rule.get("from", rule.get("to")):
            if "ipBlock" in peer:
                words.add(f"cidr:{peer['ipBlock']['cidr']}")
            elif set(peer) == {"namespaceSelector"}:
                words.add(f"ns:{peer['namespaceSelector']['matchLabels']['kubernetes.io/metadata.name']}")
            elif (
                set(peer) == {"podSelector"}
                and "app.kubernetes.io/part-of" in peer["podSelector"]["matchLabels"]
            ):
                words.add(f"app:{peer['podSelector']['matchLabels']['app.kubernetes.io/name']}")
            else:
                words.add("platform")  # the broker, the database, DNS
    return words


def test_each_pod_is_reached_only_by_its_callers_and_reaches_only_what_it_needs():
    policies = _network_policies()
    callers = {"transcript": {"signing"}, "signing": {"sync"}}
    calls = {"signing": {"transcript"}, "sync": {"signing"}}
    for name in SERVICES:
        service, relay = policies[name], policies[f"{name}-relay"]
        assert set(service["policyTypes"]) == set(relay["policyTypes"]) == {"Ingress", "Egress"}
        users_and_prometheus = {"ns:ingress-nginx", "ns:monitoring"}
        assert _peers(service["ingress"]) == users_and_prometheus | {
            f"app:{c}" for c in callers.get(name, ())
        }
        assert _peers(relay["ingress"]) == {"ns:monitoring"}
        assert _peers(service["egress"]) == {"platform"} | {f"app:{c}" for c in calls.get(name, ())}
        assert _peers(relay["egress"]) == {"platform"}
    # Outside the cluster: one policy per destination, a single address each, for exactly the services needing it.
    outside = {n: s for n, s in policies.items() if n.startswith("egress-")}
    reach = {
        n: (set(s["podSelector"]["matchExpressions"][0]["values"]), _peers(s["egress"]))
        for n, s in outside.items()
    }
    assert {n: pods for n, (pods, _) in reach.items()} == {
        "egress-identity-provider": set(SERVICES),
        "egress-timestamp-authority": {"signing"},
        "egress-province-gateway": {"sync"},
    }
    for name, (_, peers) in reach.items():
        assert len(peers) == 1 and next(iter(peers)).endswith("/32"), (name, peers)
    assert all(s["policyTypes"] == ["Egress"] and "ingress" not in s for s in outside.values())
    anywhere = [
        n for n, s in policies.items() for r in s.get("egress", []) if "cidr:0.0.0.0/0" in _peers([r])
    ]
    assert anywhere == []


# What each process's Settings must be given in production, beyond its database and broker (checked for all): a
# field left at its default there is a service that starts against 127.0.0.1, or refuses to start. Relays read no
# token, key or seal setting.
NEEDED_BY_SERVICE = {
    "gradebook": {"jwks_url", "data_key"},
    "transcript": {"jwks_url", "data_key"},
    "signing": {"jwks_url", "oauth_token_url", "oauth_client_secret", "transcript_url", "pkcs11_pin"}
    | {"trust_roots", "ca_chain", "tsa_url"},
    "sync": {"jwks_url", "data_key", "oauth_token_url", "oauth_client_secret", "signing_url", "gateway_url"},
    "audit": {"jwks_url", "data_key", "tsa_url"},
}


def _settings_of(monkeypatch: pytest.MonkeyPatch, objects: list[dict], container: dict) -> Settings:
    """The Settings the container's process builds: its ConfigMaps' data and its env, every secret a placeholder
    and each $(VAR) expanded as Kubernetes does; nothing from this test run's own environment or .env."""
    configmaps = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(configmaps[source["configMapRef"]["name"]])
    for variable in container.get("env", []):
        env[variable["name"]] = variable.get("value", f"secret-{variable['name'].lower().replace('_', '-')}")
    for name, value in env.items():
        env[name] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), value)
    for name in [n for n in os.environ if n.startswith("HOCBA_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def test_each_container_s_env_gives_its_settings_what_the_process_needs(monkeypatch):
    from cli.manifests.names import MIGRATOR, PG_RW, POOLER, SESSION_POOLER

    objects = _base_objects()
    pods = _pod_specs(objects)
    defaults = Settings(_env_file=None, env="prod")
    (cluster,) = [o for o in objects if o["kind"] == "Cluster"]
    logins = {
        r["passwordSecret"]["name"]: r["name"] for r in cluster["spec"]["managed"]["roles"] if r["login"]
    }
    for service in SERVICES:
        for workload in (service, f"{service}-relay"):
            (container,) = pods[workload]["containers"]
            with monkeypatch.context() as m:
                settings = _settings_of(m, objects, container)
            url = urlsplit(settings.login_url(service))
            assert settings.env == "prod" and settings.amqp_uri != defaults.amqp_uri, workload
            # Its own login (a managed role), through the pooler its connections suit.
            assert url.username == "secret-db-user" and logins[next(iter(_db_secret(container)))], workload
            assert url.hostname == (SESSION_POOLER if service == "audit" else POOLER), workload
            assert settings.db_transaction_pooling is (url.hostname == POOLER), workload
            if workload == service:
                missing = {
                    f for f in NEEDED_BY_SERVICE[service] if getattr(settings, f) == getattr(defaults, f)
                }
                assert not missing, (workload, missing)
    # The jobs: every service's database, directly, as the migration role; the grants go to the very roles the
    # service pods log in as.
    service_logins = {
        s: logins[next(iter(_db_secret(pods[s]["containers"][0])))] for s in SERVICES if s != "audit"
    }
    for job in ("hocba-migrate", "hocba-prune"):
        (container,) = pods[job]["containers"]
        with monkeypatch.context() as m:
            settings = _settings_of(m, objects, container)
        assert logins[next(iter(_db_secret(container)))] == MIGRATOR
        for service in SERVICES:
            assert urlsplit(settings.db_url(service)).hostname == PG_RW, (job, service)
            assert urlsplit(settings.db_url(service)).path == f"/hocba_{service}", (job, service)
        assert settings.db_service_roles == service_logins, job
        assert not settings.db_transaction_pooling, job
