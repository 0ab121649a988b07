"""Checks a Python program against a jsii-generated Python package without running it.

Usage: python3 python_api_check.py <program.py> <package/__init__.py>

Byte-compiles the program, then reports every name it takes from cdk8s_deepspeed that the
generated package lacks: imported classes, their static methods and enum members, and every
keyword argument or struct dict key (snake_case property names). Prints one problem per line.
"""
import ast
import re
import sys

program_path, init_path = sys.argv[1], sys.argv[2]
source = open(program_path).read()
compile(source, program_path, 'exec')  # a SyntaxError fails the check
tree = ast.parse(source)
generated = open(init_path).read()

classes = set(re.findall(r'^class (\w+)\b', generated, re.M))
methods = set(re.findall(r'^\s+def (\w+)\(', generated, re.M))
enum_members = set(re.findall(r'^\s+([A-Z][A-Z0-9_]*) = "', generated, re.M))
# Parameter and property names of the generated signatures (keyword-only and struct fields).
params = set(re.findall(r'^\s+(\w+): (?:typing|builtins|jsii|_|\w+\.|"|\[)', generated, re.M))
params |= set(re.findall(r'\b(\w+): typing\.Optional', generated))

# Map-typed properties (env, labels, pip packages, MCA parameters): their dicts hold free-form keys.
map_params = set(re.findall(r'^\s+(\w+): typing\.(?:Optional\[typing\.)?Mapping\[', generated, re.M))
free_form = set()
for node in ast.walk(tree):
    pairs = []
    if isinstance(node, ast.Call):
        pairs = [(k.arg, k.value) for k in node.keywords]
    elif isinstance(node, ast.Dict):
        pairs = [(k.value if isinstance(k, ast.Constant) else None, v) for k, v in zip(node.keys, node.values)]
    for name, value in pairs:
        if name in map_params and isinstance(value, ast.Dict):
            free_form.add(id(value))

imported = set()
problems = []
for node in ast.walk(tree):
    if isinstance(node, ast.ImportFrom) and node.module == 'cdk8s_deepspeed':
        for alias in node.names:
            imported.add(alias.name)
            if alias.name not in classes:
                problems.append(f'cdk8s_deepspeed has no class {alias.name}')
for node in ast.walk(tree):
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported:
        if node.attr not in methods and node.attr not in enum_members:
            problems.append(f'{node.value.id}.{node.attr} is not in the generated package')
    if isinstance(node, ast.Call):
        for keyword in node.keywords:
            if keyword.arg and keyword.arg not in params:
                problems.append(f'keyword {keyword.arg} is not a parameter of the generated package')
    if isinstance(node, ast.Dict) and id(node) not in free_form:
        for key in node.keys:
            # Struct dicts use snake_case property names; maps of names (env, labels) hold other keys.
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and re.fullmatch(r'[a-z][a-z0-9_]*', key.value):
                if key.value not in params:
                    problems.append(f'dict key {key.value} is not a property of the generated package')
print('\n'.join(sorted(set(problems))))
