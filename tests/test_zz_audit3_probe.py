def test_probe(ctk_mcp):
    s = ctk_mcp({"CTK_ENABLE_WRITES": "true"})
    for a in ({"action": "list", "type": "weird"}, {"action": "list", "keys": 7},
              {"action": "create", "key": 5, "name": "X"}, {"action": "get"},
              {"action": "get_by_key"}):
        print(a, "->", s.error("manage_spaces", a))
    print(s.error("manage_users", {"action": "get"}))
    print(s.call_json("manage_users", {"action": "get", "account_id": "557058:0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"}))
