# Backend tests, included from tests/engine/CMakeLists.txt. Each test reaches the backend's
# internal host-callable ops (engine/backends/<x>/<x>-ops.h), so it adds engine/ to its includes.
#   test-backend-cuda    labels engine;gpu     skips with a printed reason without a CUDA device
#   test-backend-vulkan  labels engine;vulkan  runs on lavapipe (Mesa's CPU device) without a GPU
#   test-vulkan-parity   labels engine;vulkan  the transformers parity goldens through the Vulkan backend
if(MOE_HAVE_CUDA)
    moe_add_qtest(test-backend-cuda
        SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-backend-cuda.cpp
        LIBS moe_engine
        LABELS engine gpu)
    target_include_directories(test-backend-cuda PRIVATE ${CMAKE_SOURCE_DIR}/engine)
    # The transformers parity folders run through the CUDA backend (tests/data/parity).
    moe_add_qtest(test-cuda-parity
        SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-cuda-parity.cpp
        LIBS moe_engine
        LABELS engine gpu)
    target_include_directories(test-cuda-parity PRIVATE ${CMAKE_SOURCE_DIR}/engine)
endif()

if(MOE_HAVE_VULKAN)
    moe_add_qtest(test-backend-vulkan
        SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-backend-vulkan.cpp
        LIBS moe_engine Vulkan::Vulkan
        LABELS engine vulkan)
    target_include_directories(test-backend-vulkan PRIVATE ${CMAKE_SOURCE_DIR}/engine)
    moe_add_qtest(test-vulkan-parity
        SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-vulkan-parity.cpp
        LIBS moe_engine
        LABELS engine vulkan)
    target_include_directories(test-vulkan-parity PRIVATE ${CMAKE_SOURCE_DIR}/engine)
endif()
