# AggregateFunction's container image (template.yaml: PackageType Image, Metadata DockerContext ./functions).
# `sam build` builds it for the function's architecture, arm64 (linux/arm64; on an x86_64 machine Docker
# needs arm64 emulation). Same Python as the zip functions (python3.12); the base is Amazon Linux 2023
# (glibc 2.34), so OpenDP's manylinux_2_28 aarch64 wheel installs as is. The handler is the one
# template.yaml's ImageConfig names (tests/unit/test_template.py holds the two equal).
FROM public.ecr.aws/lambda/python:3.12

ENV PIP_DISABLE_PIP_VERSION_CHECK=1

# Dependencies first, so that a code change reuses this layer; the requirement files stay out of the image.
COPY requirements.txt requirements-aggregate.txt /tmp/requirements/
RUN pip install --no-cache-dir --target "${LAMBDA_TASK_ROOT}" -r /tmp/requirements/requirements-aggregate.txt \
    && rm -rf /tmp/requirements

COPY ceip/ ${LAMBDA_TASK_ROOT}/ceip/
# The image is read-only at run time: compile now rather than on every cold start.
RUN python -m compileall -q "${LAMBDA_TASK_ROOT}/ceip"

CMD ["ceip.aggregate.app.lambda_handler"]
